"""Platform kernel: configuration, database and tenancy, identity, errors, audit, idempotency, outbox, CLI."""
