"""The records: drafts and their decisions in any SQLAlchemy database, and decided drafts as eval cases."""
