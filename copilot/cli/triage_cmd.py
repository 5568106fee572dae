"""`copilot triage`: label tickets and train the triage model."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import Progress
from rich.status import Status

from copilot.cli.context import console, errors, reported_errors, state
from copilot.domain import Ticket
from copilot.domain.taxonomy import load_taxonomy
from copilot.pipeline import triage_batch, triage_ticket
from copilot.triage.batch import RowProblem, tag_in_chunks, tickets_from_rows
from copilot.triage.tables import read_rows, write_rows
from copilot.triage.training import read_examples, stratified_split, train_classifier

app = typer.Typer(help="Label tickets; train the triage model.", no_args_is_help=True)


@app.command("ticket")
def ticket_command(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="The ticket text, as the creator wrote it."),
    handle: str | None = typer.Option(None, "--handle", help="The creator's @handle, if known."),
) -> None:
    """Triage one ticket: LOB, intent, confidence, routing, priority, tier, risk flags, language (JSON)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        ticket = Ticket(text=text, creator_handle=handle)
        labels = triage_ticket(ticket, services=cli.services(triage_model=True, train_if_missing=True))
        console.print_json(labels.model_dump_json())


BATCH_COLUMNS = [
    "line", "id", "lob", "intent", "confidence", "routing", "priority", "tier", "risk_flags", "conditions",
    "language", "sentiment", "sentiment_score", "escalate", "queue", "model_version",
]  # fmt: skip


@app.command("batch")
def batch_command(
    ctx: typer.Context,
    source: Path = typer.Argument(..., help="Tickets to tag: a .jsonl or .csv file."),
    target: Path = typer.Argument(..., help="Where to write the labels: .jsonl or .csv."),
    text_column: str = typer.Option("text", "--text-column", help="Column holding the ticket text."),
    id_column: str | None = typer.Option("id", "--id-column", help="Column holding the ticket id, if any."),
) -> None:
    """Tag a backlog: one row of labels per ticket; bad rows are reported on stderr and skipped."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        services = cli.services(triage_model=True, train_if_missing=True)
        rows = list(read_rows(source))
        parsed = list(
            tickets_from_rows(
                rows, text_column=text_column, id_column=id_column, max_chars=cli.settings.max_ticket_chars
            )
        )
        good = [(row, item) for row, item in parsed if isinstance(item, Ticket)]
        problems = [item for _, item in parsed if isinstance(item, RowProblem)]
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"Tagging {len(good)} tickets", total=len(good))
            labels = tag_in_chunks(
                (t for _, t in good),
                label=lambda chunk: triage_batch(chunk, services=services),
                progress=lambda n: progress.advance(task, n),
            )
            written = write_rows(
                target,
                (
                    {"line": row.line, "id": t.ticket_id, **t.model_dump(mode="json")}
                    for (row, _), t in zip(good, labels)
                ),
                columns=BATCH_COLUMNS,
            )
        for problem in problems:
            errors.print(f"skipped {source.name} {problem}", markup=False, highlight=False)
        console.print(f"Tagged {written} tickets into {target}; skipped {len(problems)} bad rows")


@app.command("train")
def train_command(
    ctx: typer.Context,
    data: Path = typer.Argument(..., help="Labelled tickets: a .jsonl or .csv file."),
    text_column: str = typer.Option("text", "--text-column", help="Column holding the ticket text."),
    label_column: str = typer.Option("intent", "--label-column", help="Column holding the intent label."),
    flags_column: str | None = typer.Option(
        None, "--flags-column", help="Column holding each ticket's risk flags, to train the flag detector too."
    ),
    detail_column: str | None = typer.Option(
        None,
        "--detail-column",
        help="Column saying (true/false, empty if unknown) whether a ticket is too vague to answer, to train "
        "the needs-detail head too.",
    ),
    held_out: float = typer.Option(0.2, "--held-out", min=0.05, max=0.5, help="Share of each label kept to evaluate."),
    eval_data: Path | None = typer.Option(
        None, "--eval-data", help="Evaluate on this file instead of a held-out split."
    ),
    any_labels: bool = typer.Option(False, "--any-labels", help="Allow labels outside the taxonomy (benchmarks)."),
) -> None:
    """Train an intent classifier, evaluate it, and write a versioned artifact to <data_dir>/models."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        examples = read_examples(
            data,
            text_column=text_column,
            label_column=label_column,
            flags_column=flags_column,
            detail_column=detail_column,
        )
        if eval_data is not None:
            train, heldout = examples, read_examples(eval_data, text_column=text_column, label_column=label_column)
        else:
            train, heldout = stratified_split(examples, held_out=held_out)
        services = cli.services()
        with Status(f"Training on {len(train)} tickets, evaluating on {len(heldout)}", console=console):
            classifier = train_classifier(
                train,
                evaluate_on=heldout,
                embeddings=services.embeddings,
                embedder_version=services.embedder_version,
                taxonomy=None if any_labels else load_taxonomy(cli.settings.taxonomy_path),
                thresholds=services.thresholds,
                source=str(data),
            )
        folder = classifier.save(cli.settings.models_dir / classifier.version)
        console.print(f"Saved {folder}")
        console.print_json(json.dumps(classifier.metadata["metrics"]))
