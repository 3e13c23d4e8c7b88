"""Leads (线索): the upstream's prospects, handed to partner enterprises by assignment rules or by hand,
or put in pools that partners of the right type and region claim from under the pool's rules (holding
and daily limits, fields hidden until claimed, a cooldown after giving one back), and taken back to the
pool by the scheduled job `agent.lead_recycling` when nobody followed them up or converted them in time."""
