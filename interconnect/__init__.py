"""Interconnect: plans and quotas, enterprise links (multi-tier), invitations, external users and memberships."""
