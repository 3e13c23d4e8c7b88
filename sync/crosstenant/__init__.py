"""Cross-tenant sync within one deployment: rules per enterprise link whose downstream runs its own
tenant, field mapping, the mapping table, application of upstream changes by the "sync" subscriber,
backfills and held conflicts (docs/sync.md)."""
