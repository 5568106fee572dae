"""SOP writers' draft revisions: a document's changed Markdown, kept as a draft the copilot does not use until it is
published (or discarded), with the impact preview's verdict and any written override.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sop_revisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("doc_id", sa.String(100), nullable=False, index=True),
        sa.Column("base_version", sa.String(20)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("impact_passed", sa.Boolean),
        sa.Column("impact_summary", sa.JSON),
        sa.Column("override_reason", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("sop_revisions")
