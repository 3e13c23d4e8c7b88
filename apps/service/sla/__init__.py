"""Service levels: each tenant's targets, each ticket's clocks, and the timer job that warns, marks
breaches and escalates."""
