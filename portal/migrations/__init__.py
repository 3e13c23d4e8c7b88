"""The schema migrations (Alembic): they import nothing above the kernel."""
