"""Business calendars: each tenant's working week, holidays and make-up working days in its time zone
(models.py, service.py), and the time arithmetic on them (arithmetic.py: add business time to an instant,
business time between two instants) that service levels and any other deadline count in. docs/calendars.md."""
