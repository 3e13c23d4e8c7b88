"""The deal-registration app (报备): partners register the customers they are working on with the
manufacturer; the first data-scoped object, under function permissions, field rules and data scopes."""
