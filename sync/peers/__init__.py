"""Cross-tenant sync across two deployments: pairing, signed requests, the inbound endpoint (docs/sync.md)."""
