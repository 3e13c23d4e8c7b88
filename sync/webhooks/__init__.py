"""Outbound webhooks: tenants' HTTPS endpoints subscribed to public event types, each delivery signed."""
