"""The service app: the manufacturer's installed base, and service tickets dispatched to service partners,
worked by their engineers and closed by the manufacturer."""
