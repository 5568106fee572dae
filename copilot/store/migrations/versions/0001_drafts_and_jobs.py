"""The records as the copilot kept them before migrations: drafts, their transitions, backlog jobs and chunks.

A database made by that code (tables created on first use, no alembic_version) already holds some or all of
these tables: each is created only where it is missing, so upgrading such a database keeps every row.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "drafts" not in existing:
        op.create_table(
            "drafts",
            sa.Column("id", sa.String(40), primary_key=True),
            sa.Column("ticket_id", sa.String(100), nullable=False, index=True),
            sa.Column("status", sa.String(16), nullable=False, index=True),
            sa.Column("action", sa.String(16), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("payload", sa.JSON, nullable=False),
        )
    if "draft_transitions" not in existing:
        op.create_table(
            "draft_transitions",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("draft_id", sa.String(40), sa.ForeignKey("drafts.id"), nullable=False, index=True),
            sa.Column("from_status", sa.String(16), nullable=False),
            sa.Column("to_status", sa.String(16), nullable=False),
            sa.Column("actor", sa.String(200), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("reason", sa.String(32)),
            sa.Column("note", sa.Text),
            sa.Column("final_text", sa.Text),
            sa.Column("diff", sa.Text),
            sa.Column("sop_versions", sa.JSON, nullable=False),
            sa.Column("model_version", sa.String(200), nullable=False),
        )
    if "jobs" not in existing:
        op.create_table(
            "jobs",
            sa.Column("id", sa.String(40), primary_key=True),
            sa.Column("status", sa.String(16), nullable=False, index=True),
            sa.Column("source", sa.String(300), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("started_at", sa.DateTime(timezone=True)),
            sa.Column("finished_at", sa.DateTime(timezone=True)),
            sa.Column("tickets_total", sa.Integer, nullable=False),
            sa.Column("chunks_total", sa.Integer, nullable=False),
            sa.Column("skipped", sa.JSON, nullable=False),
            sa.Column("error", sa.Text),
        )
    if "job_chunks" not in existing:
        op.create_table(
            "job_chunks",
            sa.Column("job_id", sa.String(40), sa.ForeignKey("jobs.id"), primary_key=True),
            sa.Column("chunk", sa.Integer, primary_key=True),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("tickets", sa.JSON, nullable=False),
            sa.Column("size", sa.Integer, nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("problems", sa.JSON, nullable=False),
            sa.Column("worker", sa.String(200)),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("results", sa.JSON),
        )


def downgrade() -> None:
    for table in ("job_chunks", "jobs", "draft_transitions", "drafts"):
        op.drop_table(table)
