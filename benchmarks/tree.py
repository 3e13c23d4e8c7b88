"""For the benchmarks' bulk loads, which insert enterprise links in SQL where the application's `Links`
keeps the flag row by row: mark every enterprise of tenant :t that has something under it."""

HAS_SUB_ENTERPRISES = (
    "UPDATE enterprise_links SET has_sub_enterprises = EXISTS (SELECT 1 FROM enterprise_links AS child"
    " WHERE child.tenant_id = enterprise_links.tenant_id AND child.parent_id = enterprise_links.id)"
    " WHERE tenant_id = :t"
)
