"""`copilot triage`: label tickets and train the triage model."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.status import Status

from copilot.cli.context import console, reported_errors, state
from copilot.domain import Ticket
from copilot.pipeline import triage_ticket
from copilot.taxonomy import load_taxonomy
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


@app.command("train")
def train_command(
    ctx: typer.Context,
    data: Path = typer.Argument(..., help="Labelled tickets: a .jsonl or .csv file."),
    text_column: str = typer.Option("text", "--text-column", help="Column holding the ticket text."),
    label_column: str = typer.Option("intent", "--label-column", help="Column holding the intent label."),
    held_out: float = typer.Option(0.2, "--held-out", min=0.05, max=0.5, help="Share of each label kept to evaluate."),
    eval_data: Path | None = typer.Option(
        None, "--eval-data", help="Evaluate on this file instead of a held-out split."
    ),
    any_labels: bool = typer.Option(False, "--any-labels", help="Allow labels outside the taxonomy (benchmarks)."),
) -> None:
    """Train an intent classifier, evaluate it, and write a versioned artifact to <data_dir>/models."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        examples = read_examples(data, text_column=text_column, label_column=label_column)
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
