"""Field work on a ticket, on the engineer's phone: checking in on site (the time, and the browser's
location when the person allows it), work notes, parts used, photos and the customer's signature."""
