"""`copilot suggest`, `decide`, `export-decisions` and `export-corrections`: keep a ticket and draft a reply,
record a decision, export decisions as eval cases and label corrections as training data."""

from __future__ import annotations

from pathlib import Path

import typer

from copilot.cli.context import console, reported_errors, state
from copilot.domain import Decision, DecisionKind, RejectReason, Ticket
from copilot.domain.accounts import Actor
from copilot.pipeline import intake, suggest_for
from copilot.store.corrected import corrected_examples
from copilot.store.decided import decided_cases


def suggest(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="The ticket text, as the creator wrote it."),
    handle: str | None = typer.Option(None, "--handle", help="The creator's @handle, if known."),
    ticket_id: str | None = typer.Option(None, "--ticket-id", help="The ticket's id in the support console."),
    helpdesk_id: str | None = typer.Option(
        None, "--helpdesk-id", help="The helpdesk's own id: a ticket sent again with it is kept (and triaged) once."
    ),
) -> None:
    """Keep a ticket as a record with its labels, and store a pending draft with its citations (printed as JSON)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        ticket = Ticket(text=text, creator_handle=handle, **({"id": ticket_id} if ticket_id else {}))
        services = cli.services(triage_model=True, train_if_missing=True, index=True)
        by = Actor.operator("cli")
        record = intake(ticket, services=services, by=by, helpdesk_id=helpdesk_id)
        draft = suggest_for(record, services=services, by=by)
        console.print_json(draft.model_dump_json())


def decide(
    ctx: typer.Context,
    draft_id: str = typer.Argument(..., help="The draft's id (DRF-...)."),
    kind: DecisionKind = typer.Argument(..., help="approve, edit or reject."),
    actor: str = typer.Option(..., "--actor", help="Who decides: the agent's id or email."),
    final_text: str | None = typer.Option(None, "--text", help="For edit: the reply as it will be sent."),
    reason: RejectReason | None = typer.Option(None, "--reason", help="For reject: why."),
    note: str | None = typer.Option(None, "--note", help="Free text kept with the decision."),
) -> None:
    """Record an agent's decision on a pending draft."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        decision = Decision(kind=kind, actor=actor, final_text=final_text, reason=reason, note=note)
        transition = cli.records().store.decide(draft_id, decision, by=Actor.operator(actor))
        console.print_json(transition.model_dump_json())


def export_decisions(
    ctx: typer.Context,
    output: Path = typer.Argument(..., help="JSONL file to write, one decided draft per line."),
) -> None:
    """Export every decided draft (approved, edited, rejected) as eval cases for QA."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        cases = list(decided_cases(cli.records().store))
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("".join(c.model_dump_json() + "\n" for c in cases), encoding="utf-8")
        console.print(f"{len(cases)} decided drafts written to {output}")


def export_corrections(
    ctx: typer.Context,
    output: Path = typer.Argument(..., help="JSONL file to write, one corrected ticket per line."),
) -> None:
    """Export the specialists' label corrections as training data (personal data redacted)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        records = cli.records()
        examples = list(corrected_examples(records.tickets, records.taxonomy))
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("".join(e.model_dump_json() + "\n" for e in examples), encoding="utf-8")
        console.print(
            f"{len(examples)} corrected tickets written to {output}; train on them with "
            f"`copilot triage train {output} --flags-column risk_flags`",
            markup=False,
            highlight=False,
        )
