"""migrator: move a legacy blog into SQLite."""
