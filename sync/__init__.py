"""Cross-tenant sync: outbox relay, sync rules and field mappings, connectors, inbound receiver, reconciliation."""
