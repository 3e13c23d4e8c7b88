"""A reconciliation's findings as a workbook: one row per missing or extra record, one per differing
field of a different one, with the labels in the reader's language."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from litestar import Response

from portal.i18n import N_, gettext
from portal.spreadsheets import workbook_bytes
from portal.ui.downloads import download, stamped
from sync.crosstenant.rules import Rules

KIND_LABELS = {
    "missing": N_("Missing at the partner"),
    "extra": N_("Extra at the partner"),
    "different": N_("Different"),
}
COLUMNS = (
    N_("Kind"),
    N_("Record"),
    N_("Your record"),
    N_("Partner's record"),
    N_("Field"),
    N_("Sent by the rule"),
    N_("At the partner"),
)


async def drift_xlsx(rules: Rules, reconciliation_id: uuid.UUID, kind: str | None) -> Response[bytes]:
    run = await rules.reconciliation(reconciliation_id)
    rule = await rules.get(run.rule_id)
    obj = rules.objects.get(rule.object)
    labels = dict(obj.field_labels) if obj is not None else {}
    rows: list[list[Any]] = []
    async for batch in rules.drift_batches(run.id, kind):
        for d in batch:
            head = [gettext(KIND_LABELS[d.kind]), d.label or "", str(d.local_id), str(d.peer_id or "")]
            if not d.fields:
                rows.append([*head, "", "", ""])
            for f in d.fields:
                name = f.get("field", "")
                shown = gettext(labels[name]) if name in labels else name
                rows.append([*head, shown, f.get("expected"), f.get("actual")])
    header = [gettext(c) for c in COLUMNS]
    content = await asyncio.to_thread(workbook_bytes, header, rows, gettext(N_("Reconciliation")))
    return download(content, stamped(f"reconciliation-{run.created_at:%Y%m%d}"))
