"""Tickets as records, label corrections, accounts (users, API keys, sessions, failed sign-ins), the audit log,
and every published SOP version.

Drafts stored before tickets were records each carry their ticket (text and labels): the ticket rows are
made from them, the oldest draft's labels as the model's, so every existing draft links to its ticket.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Used for tickets rebuilt from old drafts when the copilot does not pass its taxonomy's SLA hours.
FALLBACK_SLA_HOURS = 24


def upgrade() -> None:
    tickets = op.create_table(
        "tickets",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("helpdesk_id", sa.String(100), unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("creator_handle", sa.String(100)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_labels", sa.JSON, nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("taxonomy_version", sa.String(40), nullable=False),
        sa.Column("model_version", sa.String(200), nullable=False),
        sa.Column("lob", sa.String(100), nullable=False, index=True),
        sa.Column("intent", sa.String(100), nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("priority_rank", sa.Integer, nullable=False),
        sa.Column("queue", sa.String(100)),
        sa.Column("language", sa.String(20), nullable=False),
        sa.Column("risk_flags", sa.String(1000), nullable=False),
        sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("corrected", sa.Boolean, nullable=False),
        sa.Column("latest_draft_id", sa.String(40)),
        sa.Column("latest_draft_status", sa.String(16)),
    )
    op.create_table(
        "label_corrections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(100), sa.ForeignKey("tickets.id"), nullable=False, index=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old", sa.JSON, nullable=False),
        sa.Column("new", sa.JSON, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(100), sa.ForeignKey("users.name"), nullable=False, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_name", sa.String(100), nullable=False, index=True),
        sa.Column("address", sa.String(100), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor", sa.String(200), nullable=False, index=True),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("role", sa.String(20)),
        sa.Column("action", sa.String(40), nullable=False, index=True),
        sa.Column("target", sa.String(100), index=True),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("address", sa.String(100)),
        sa.Column("request_id", sa.String(100)),
    )
    op.create_table(
        "sop_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("doc_id", sa.String(100), nullable=False, index=True),
        sa.Column("version", sa.String(20), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source_path", sa.String(500), nullable=False),
        sa.Column("published_by", sa.String(200), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("doc_id", "content_hash", name="uq_sop_versions_doc_content"),
    )
    _tickets_from_drafts(tickets)


def _tickets_from_drafts(tickets_table: sa.Table) -> None:
    """One ticket row for every ticket id the drafts name, from its oldest draft; its status from its drafts."""
    bind = op.get_bind()
    sla_hours: dict[str, int] = context.config.attributes.get("sla_hours", {})
    ranks = {priority: rank for rank, priority in enumerate(sla_hours)}
    drafts = sa.table(
        "drafts",
        sa.column("id"),
        sa.column("ticket_id"),
        sa.column("status"),
        sa.column("action"),
        sa.column("created_at", sa.DateTime(timezone=True)),  # typed: SQLite returns a bare string otherwise
        sa.column("payload", sa.JSON),
    )
    tickets: dict[str, dict[str, Any]] = {}
    for row in bind.execute(sa.select(drafts).order_by(drafts.c.created_at, drafts.c.id)).mappings():
        payload, labels = row["payload"], row["payload"]["triage"]
        ticket = tickets.get(row["ticket_id"])
        if ticket is None:
            received_at = _aware(row["created_at"])
            priority = labels["priority"]
            ticket = tickets[row["ticket_id"]] = {
                "id": row["ticket_id"],
                "helpdesk_id": None,
                "text": payload["ticket_text"],
                "creator_handle": None,
                "received_at": received_at,
                "model_labels": labels,
                "labels": labels,
                "taxonomy_version": "unrecorded",
                "model_version": labels["model_version"],
                "lob": labels["lob"],
                "intent": labels["intent"],
                "priority": priority,
                "priority_rank": ranks.get(priority, len(ranks)),
                "queue": labels.get("queue"),
                "language": labels["language"],
                "risk_flags": "," + ",".join(labels.get("risk_flags", [])) + ",",
                "sla_due_at": received_at + dt.timedelta(hours=sla_hours.get(priority, FALLBACK_SLA_HOURS)),
                "status": "open",
                "corrected": False,
            }
        ticket["latest_draft_id"], ticket["latest_draft_status"] = row["id"], row["status"]
        if row["status"] in ("approved", "edited"):
            ticket["status"] = "escalated" if row["action"] == "escalate" else "answered"
    if tickets:
        op.bulk_insert(tickets_table, list(tickets.values()))  # the typed table: JSON and dates bind on SQLite too


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def downgrade() -> None:
    for table in ("sop_versions", "audit_log", "login_failures", "sessions", "api_keys", "users"):
        op.drop_table(table)
    op.drop_table("label_corrections")
    op.drop_table("tickets")
