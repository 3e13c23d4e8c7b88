"""Identity for upstream staff: tenants, internal users, passwords, sessions, tokens, login throttling."""
