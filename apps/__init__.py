"""Partner apps: the registry, the agent, ordering, service, notices and academy apps, custom objects, approvals."""
