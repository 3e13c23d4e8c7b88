"""The integration API: an external system (an ERP) with a tenant's API key keeps products, price lists,
stock and customers in step by bulk upserts keyed by its own ids, and reads every change after a cursor
(docs/integrations.md)."""
