"""Dispatch by rules (each tenant's ordered rules choose a service partner), the open pool partners take
tickets from, and the customer's rating request and the automatic closing of resolved tickets."""
