"""Commissions (佣金): rules per partner tier, product line and deal type turn a won deal into a
commission line (and a deal leaving "won" into its reversal); lines gather into one statement per partner,
period and currency, which the partner reviews and the upstream approves, posting it to the partner's
account (the ordering app's ledger, when installed)."""
