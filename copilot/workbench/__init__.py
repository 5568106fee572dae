"""The SOP writers' workbench: draft revisions of the library's documents, their diff, publishing, rollback and
retirement, around the Markdown files that stay the source of truth."""
