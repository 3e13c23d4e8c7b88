"""Spare parts: the stock the manufacturer consigns to each service partner (products of the ordering
app's catalog), used up on tickets and replenished by parts requests the manufacturer approves and ships."""
