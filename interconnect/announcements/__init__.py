"""Announcements: what the manufacturer tells its partners (a price change, a new product, a holiday
schedule), to every partner or to chosen partner types, shown on the partner home and in the portal.

Staff read them with the programme's read permission and publish or withdraw them with its update
permission (they are part of running the partner programme); a partner person reads those addressed to
their enterprise's type while they are current."""
