"""Notifications to people: the inbox, email and SMS (see docs/notifications.md)."""
