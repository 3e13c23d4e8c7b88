"""Database: engine, declarative base and column types, tenancy enforcement, migrations."""
