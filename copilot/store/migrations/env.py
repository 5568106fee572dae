"""Alembic's entry point for the records database. `copilot db upgrade` runs it on the copilot's own engine
(passed in `config.attributes["connection"]`); nothing here reads an alembic.ini."""

from __future__ import annotations

from alembic import context

from copilot.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
