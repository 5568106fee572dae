"""Every table of the records database, as the code reads and writes them.

The schema itself is made by the Alembic migrations in copilot/store/migrations/ (`copilot db upgrade`);
these definitions must match the newest revision, which a test checks.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

drafts = Table(
    "drafts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("ticket_id", String(100), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSON, nullable=False),
)

transitions = Table(
    "draft_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("draft_id", String(40), ForeignKey("drafts.id"), nullable=False, index=True),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", String(32)),
    Column("note", Text),
    Column("final_text", Text),
    Column("diff", Text),
    Column("sop_versions", JSON, nullable=False),
    Column("model_version", String(200), nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("status", String(16), nullable=False, index=True),
    Column("source", String(300), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("tickets_total", Integer, nullable=False),
    Column("chunks_total", Integer, nullable=False),
    Column("skipped", JSON, nullable=False),
    Column("error", Text),
)

job_chunks = Table(
    "job_chunks",
    metadata,
    Column("job_id", String(40), ForeignKey("jobs.id"), primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("tickets", JSON, nullable=False),
    Column("size", Integer, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("problems", JSON, nullable=False),
    Column("worker", String(200)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("results", JSON),
)

# Revision 0002: tickets as records, accounts, the audit log, and every published SOP version.

tickets = Table(
    "tickets",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("helpdesk_id", String(100), unique=True),
    Column("text", Text, nullable=False),
    Column("creator_handle", String(100)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("model_labels", JSON, nullable=False),
    Column("labels", JSON, nullable=False),
    Column("taxonomy_version", String(40), nullable=False),
    Column("model_version", String(200), nullable=False),
    # The current labels again, as columns the queue filters and sorts on.
    Column("lob", String(100), nullable=False, index=True),
    Column("intent", String(100), nullable=False),
    Column("priority", String(20), nullable=False),
    Column("priority_rank", Integer, nullable=False),
    Column("queue", String(100)),
    Column("language", String(20), nullable=False),
    Column("risk_flags", String(1000), nullable=False),  # ",flag,other," so a LIKE finds one flag
    Column("sla_due_at", DateTime(timezone=True), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("corrected", Boolean, nullable=False),
    Column("latest_draft_id", String(40)),
    Column("latest_draft_status", String(16)),
)

label_corrections = Table(
    "label_corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(100), ForeignKey("tickets.id"), nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("old", JSON, nullable=False),
    Column("new", JSON, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(300), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(100), ForeignKey("users.name"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_name", String(100), nullable=False, index=True),
    Column("address", String(100), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(200), nullable=False, index=True),
    Column("actor_kind", String(16), nullable=False),
    Column("role", String(20)),
    Column("action", String(40), nullable=False, index=True),
    Column("target", String(100), index=True),
    Column("detail", JSON, nullable=False),
    Column("address", String(100)),
    Column("request_id", String(100)),
)

sop_versions = Table(
    "sop_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc_id", String(100), nullable=False, index=True),
    Column("version", String(20), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("source_path", String(500), nullable=False),
    Column("published_by", String(200), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("doc_id", "content_hash", name="uq_sop_versions_doc_content"),
)

# Revision 0003: SOP writers' draft revisions, kept until published or discarded, and after.

sop_revisions = Table(
    "sop_revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc_id", String(100), nullable=False, index=True),
    Column("base_version", String(20)),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", DateTime(timezone=True)),
    Column("impact_passed", Boolean),
    Column("impact_summary", JSON),
    Column("override_reason", Text),
)
