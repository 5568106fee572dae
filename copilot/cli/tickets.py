"""`copilot suggest`, `decide` and `export-decisions`: draft a reply, record a decision, export decisions."""

from __future__ import annotations

from pathlib import Path

import typer

from copilot.cli.context import console, reported_errors, state
from copilot.domain import Decision, DecisionKind, RejectReason, Ticket
from copilot.pipeline import suggest as suggest_reply
from copilot.store.decided import decided_cases


def suggest(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="The ticket text, as the creator wrote it."),
    handle: str | None = typer.Option(None, "--handle", help="The creator's @handle, if known."),
    ticket_id: str | None = typer.Option(None, "--ticket-id", help="The ticket's id in the support console."),
) -> None:
    """Triage a ticket and store a pending draft with its citations (printed as JSON)."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        ticket = Ticket(text=text, creator_handle=handle, **({"id": ticket_id} if ticket_id else {}))
        draft = suggest_reply(ticket, services=cli.services(triage_model=True, train_if_missing=True, index=True))
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
        transition = cli.services().store.decide(draft_id, decision)
        console.print_json(transition.model_dump_json())


def export_decisions(
    ctx: typer.Context,
    output: Path = typer.Argument(..., help="JSONL file to write, one decided draft per line."),
) -> None:
    """Export every decided draft (approved, edited, rejected) as eval cases for QA."""
    cli = state(ctx)
    with reported_errors(cli.debug):
        cases = list(decided_cases(cli.services().store))
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("".join(c.model_dump_json() + "\n" for c in cases), encoding="utf-8")
        console.print(f"{len(cases)} decided drafts written to {output}")
