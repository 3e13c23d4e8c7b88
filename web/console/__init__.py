"""The admin console's pages, by area of the portal."""
