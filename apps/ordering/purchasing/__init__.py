"""Purchase orders a workspace places with its suppliers on this platform (cross-tenant sync carries them)."""
