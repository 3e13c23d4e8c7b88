"""CRM core: the accounts (companies) and contacts every partner app refers to."""
