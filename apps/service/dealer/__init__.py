"""Tickets a dealer opens for the devices it sold: models, service, API and the partner portal's page."""
