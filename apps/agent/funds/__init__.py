"""Market development funds (MDF, 市场发展基金): a budget per period (for every partner, or a tier's),
requests partners make (amount, purpose), approved by the upstream against a budget, claimed by the
partner with proof, and paid by the upstream. A budget is never overspent: approving reserves its part
by a conditional UPDATE."""
