"""Deal registration (报备) with its duplicate check: a partner registers a deal for a customer, matched
against the CRM accounts by folded name, tax id, phone and email. A registration that meets another
partner's registration or an account the upstream owns waits in the channel manager's conflict queue;
an approved one protects the customer for the programme's number of days, extendable once."""
