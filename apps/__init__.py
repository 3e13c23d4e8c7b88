"""Partner apps: deal registration (agent) and ordering."""
