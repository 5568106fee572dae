"""`copilot backup` and `copilot restore`: the embedded setup (records, index, triage models, SOPs) in one archive."""

from __future__ import annotations

from pathlib import Path

import typer

from copilot.backup import back_up, restore, version_notes
from copilot.cli.context import console, reported_errors, state


def backup(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="The archive to write, e.g. copilot-2026-12-07.tar.gz."),
    force: bool = typer.Option(False, "--force", help="Replace the archive if it exists."),
) -> None:
    """Write the records database, the index, the triage models and the SOP library to one tar.gz.

    Safe while `copilot serve` runs, but not while an ingest runs (a changed index refuses the backup).
    """
    cli = state(ctx)
    with reported_errors(cli.debug):
        manifest = back_up(cli.settings, out, force=force)
        console.print(f"Backed up to {out}: {manifest.summary()}")


def restore_command(
    ctx: typer.Context,
    archive: Path = typer.Argument(..., help="An archive written by `copilot backup`."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Restore the data here; default COPILOT_DATA_DIR."),
    sop_dir: Path | None = typer.Option(
        None, "--sop-dir", help="Restore the SOP library here; default COPILOT_SOP_DIR."
    ),
    force: bool = typer.Option(False, "--force", help="Replace a data dir or SOP dir that is not empty."),
) -> None:
    """Restore an archive into an empty data dir and SOP dir; nothing is written unless all of it can be."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        restored = restore(archive, cli.settings, data_dir=data_dir, sop_dir=sop_dir, force=force)
        manifest = restored.manifest
        console.print(
            f"Restored {archive} (made {manifest.created_at:%Y-%m-%d %H:%M} UTC) into {restored.data_dir} "
            f"and {restored.sop_dir}: {manifest.summary()}"
        )
        for note in version_notes(manifest):
            console.print(f"note: {note}")
        for name, used, restored_to in (
            ("COPILOT_DATA_DIR", cli.settings.data_dir, restored.data_dir),
            ("COPILOT_SOP_DIR", cli.settings.sop_dir, restored.sop_dir),
        ):
            if used.absolute() != restored_to:
                console.print(f"Serve it with {name}={restored_to}")
