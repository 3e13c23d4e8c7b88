"""The console's sync pages (/console/sync/...): the upstream's rules per partner link and a form for a
new one; a rule's page (the mapping editor with a preview on a sample record, the filter, the conflict
policy per field, activation with its backfill's progress, pause, delete); the held conflicts with their
resolve actions; and, for a partner that runs its own workspace, the rules that feed it. They call the
service the API calls (sync.crosstenant.rules), so both refuse and show the same things."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.errors import Conflict, NotFound, ValidationFailed
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.forms import Form, form_value, uuid_or_none
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of
from sync.crosstenant.dependencies import DEPENDENCIES, RulesDep
from sync.crosstenant.mapping import KINDS, OPERATORS
from sync.crosstenant.models import DRIFT_KINDS, POLICIES, SyncRule
from sync.crosstenant.objects import CONFLICT, RULE, SyncObject, direction_of, handed
from sync.crosstenant.reconcile import ERROR_LABELS, drift_out, reconcilable, reconciliation_out
from sync.crosstenant.reports import KIND_LABELS as DRIFT_LABELS
from sync.crosstenant.rules import Rules, backfill_out, conflict_out, rule_out

PAGE_SIZE = 50
FILTER_ROWS = 3
KIND_LABELS = {
    "": N_("Not mapped"),
    "rename": N_("Copy a field"),
    "constant": N_("A constant"),
    "lookup": N_("Look up in a table"),
    "unit": N_("Convert a unit"),
}
DIRECTION_LABELS = {"down": N_("To the partner"), "up": N_("From the partner")}
POLICY_LABELS = {
    "upstream": N_("Upstream wins"),
    "downstream": N_("Partner wins"),
    "newer": N_("Newer change wins"),
    "hold": N_("Hold for a person"),
}
STATUS_LABELS = {"draft": N_("Draft"), "active": N_("Active"), "paused": N_("Paused")}
BACKFILL_LABELS = {"queued": N_("Queued"), "running": N_("Running"), "done": N_("Done"), "failed": N_("Failed")}
OPERATOR_LABELS = {
    "eq": N_("Is"),
    "ne": N_("Is not"),
    "prefix": N_("Starts with"),
    "contains": N_("Contains"),
    "in": N_("Is one of (comma-separated)"),
}
NOTICES = {
    "created": N_("The rule was saved as a draft: check its mapping, then activate it."),
    "saved": N_("The rule was saved."),
    "activated": N_("The rule is active: what exists is being brought over."),
    "paused": N_("The rule is paused: changes are no longer sent."),
    "deleted": N_("The rule was deleted."),
    "resolved": N_("The conflict was resolved."),
    "reconciling": N_("Both sides are being compared: this page shows the progress."),
    "repairing": N_("The workers are sending what was found again; compare both sides once more to check."),
    "peer_paused": N_("The rule is paused for your workspace: nothing new is sent until you resume it."),
    "peer_resumed": N_("The rule is resumed: what changed meanwhile is being brought over."),
}


def _shared() -> dict[str, Any]:
    return {
        "kinds": KINDS,
        "kind_labels": KIND_LABELS,
        "policies": POLICIES,
        "policy_labels": POLICY_LABELS,
        "status_labels": STATUS_LABELS,
        "backfill_labels": BACKFILL_LABELS,
        "drift_labels": DRIFT_LABELS,
        "error_labels": ERROR_LABELS,
        "operators": OPERATORS,
        "operator_labels": OPERATOR_LABELS,
    }


# --- the mapping editor: one row per target field, a few filter rows ---


def _table_text(table: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in table.items())


def _table_of(text: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in text.split(","))
    return {k.strip(): v.strip() for k, _sep, v in pairs if k.strip()}


def editor_of(rule: SyncRule, obj: SyncObject) -> dict[str, Any]:
    """The form as the rule fills it."""
    form: dict[str, Any] = {"name": rule.name}
    for entry in rule.mapping:
        target = entry["target"]
        form[f"kind.{target}"] = entry["kind"]
        form[f"source.{target}"] = entry.get("source", "")
        if entry["kind"] == "constant":
            form[f"value.{target}"] = "" if entry.get("value") is None else str(entry["value"])
        elif entry["kind"] == "lookup":
            form[f"value.{target}"] = _table_text(entry.get("table", {}))
        elif entry["kind"] == "unit":
            form[f"value.{target}"] = entry.get("factor", "")
    for name in obj.target_fields:
        form[f"policy.{name}"] = rule.policies.get(name, "upstream")
    for number, condition in enumerate(rule.filter[:FILTER_ROWS]):
        value = condition.get("value")
        form[f"filter_field.{number}"] = condition.get("field", "")
        form[f"filter_op.{number}"] = condition.get("op", "")
        form[f"filter_value.{number}"] = ", ".join(map(str, value)) if isinstance(value, list) else str(value or "")
    return form


def values_of(data: dict[str, str], obj: SyncObject) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the rule's values as the service takes them, the form as sent)."""
    form = {k: v.strip() for k, v in data.items() if k != "_csrf_token"}
    mapping: list[dict[str, Any]] = []
    for target in obj.target_fields:
        kind = form.get(f"kind.{target}", "")
        if not kind:
            continue
        entry: dict[str, Any] = {"target": target, "kind": kind}
        value = form.get(f"value.{target}", "")
        if kind != "constant":
            entry["source"] = form.get(f"source.{target}", "")
        if kind == "constant":
            entry["value"] = value
        elif kind == "lookup":
            entry["table"] = _table_of(value)
        elif kind == "unit":
            entry["factor"] = value
        mapping.append(entry)
    conditions: list[dict[str, Any]] = []
    for number in range(FILTER_ROWS):
        name, op = form.get(f"filter_field.{number}", ""), form.get(f"filter_op.{number}", "")
        if name or op:
            text = form.get(f"filter_value.{number}", "")
            value: Any = [v.strip() for v in text.split(",") if v.strip()] if op == "in" else text
            conditions.append({"field": name, "op": op, "value": value})
    policies = {name: form.get(f"policy.{name}", "upstream") for name in obj.target_fields}
    return {"name": form.get("name", ""), "mapping": mapping, "filter": conditions, "policies": policies}, form


async def _rule_page(
    rules: Rules,
    rule: SyncRule,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    notice: str | None = None,
    preview: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    obj = rules.object_of(rule.object)
    links = {link.id: link.name for link in await rules.links()}
    backfills = [backfill_out(b) for b in await rules.backfills(rule.id)]
    runs = [reconciliation_out(r) for r in await rules.reconciliations(rule.id)]
    editing = form or editor_of(rule, obj)
    # an entry the service refused names its position among the mapped targets: show it on that row
    targets = [t for t in obj.target_fields if editing.get(f"kind.{t}")]
    row_errors: dict[str, str] = {}
    for key, message in (errors or {}).items():
        number, _sep, part = key.removeprefix("mapping[").partition("].")
        if key.startswith("mapping[") and number.isdigit() and int(number) < len(targets):
            part = "value" if part in ("table", "factor", "decimals") else part
            row_errors[f"{part}.{targets[int(number)]}"] = message
        else:
            row_errors[key] = message
    return Template(
        "sync/crosstenant/rule.html",
        context={
            **_shared(),
            "rule": rule_out(rule, rules.objects),
            "link_name": links.get(rule.link_id, ""),
            "object": obj,
            "handed": handed(obj),  # the app applies its records: no field-by-field conflicts
            "form": editing,
            "errors": row_errors,
            "alert": alert,
            "notice": NOTICES.get(notice or ""),
            "preview": preview,
            "backfills": backfills,
            "running": any(b["status"] in ("queued", "running") for b in backfills),
            "reconcilable": reconcilable(obj),  # here, or with the paired deployment
            "runs": runs,
            "comparing": any(r["status"] in ("queued", "running") for r in runs),
            "mapped": await rules.mapped(rule.id),
            "filter_rows": range(FILTER_ROWS),
        },
        status_code=status_code,
    )


async def _list_page(
    rules: Rules,
    *,
    link: uuid.UUID | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    links = await rules.links()
    names = {item.id: item.name for item in links}
    shown = [rule_out(r, rules.objects) for r in await rules.list(link)]
    _rows, held = await rules.conflicts("held", 1, 0)
    return Template(
        "sync/crosstenant/rules.html",
        context={
            **_shared(),
            "rules": shown,
            "link_names": names,
            "links": [(str(item.id), item.name) for item in links],
            "objects": [
                (o.name, f"{gettext(o.label)} ({gettext(DIRECTION_LABELS[direction_of(o)])})")
                for o in rules.objects.values()
            ],
            "chosen_link": str(link) if link else "",
            "form": form or {},
            "errors": errors or {},
            "alert": alert,
            "notice": NOTICES.get(notice or ""),
            "held": held,
        },
        status_code=status_code,
    )


@get("/console/sync", opt=requires(RULE, "read"), include_in_schema=False)
async def rules_page(
    rules: RulesDep, link: FromQuery[str | None] = None, done: FromQuery[str | None] = None
) -> Template:
    return await _list_page(rules, link=uuid_or_none(link), notice=done)


@post("/console/sync", opt=requires(RULE, "create"), include_in_schema=False)
async def create_rule_page(data: Form, rules: RulesDep) -> Template | Redirect:
    form = {k: data.get(k, "").strip() for k in ("link_id", "object", "name")}
    try:
        rule = await rules.create({**form, "link_id": uuid_or_none(form["link_id"])})
    except ValidationFailed as error:
        return await _list_page(rules, form=form, errors=field_errors(error), status_code=422)
    except Conflict as error:
        return await _list_page(rules, form=form, alert=refusal_of(error), status_code=409)
    return Redirect(f"/console/sync/rules/{rule.id}?done=created")


@get("/console/sync/rules/{sync_rule_id:uuid}", opt=requires(RULE, "read"), include_in_schema=False)
async def rule_page(sync_rule_id: FromPath[uuid.UUID], rules: RulesDep, done: FromQuery[str | None] = None) -> Template:
    return await _rule_page(rules, await rules.get(sync_rule_id), notice=done)


@post("/console/sync/rules/{sync_rule_id:uuid}", opt=requires(RULE, "update"), include_in_schema=False)
async def save_rule_page(sync_rule_id: FromPath[uuid.UUID], data: Form, rules: RulesDep) -> Template | Redirect:
    """ "Preview" maps a sample record of the partner with the form as it stands; "Save" keeps it."""
    rule = await rules.get(sync_rule_id)
    obj = rules.object_of(rule.object)
    values, form = values_of(data, obj)
    try:
        if form_value(data, "action") == "preview":
            sample = await rules.preview(
                {
                    "link_id": rule.link_id,
                    "object": rule.object,
                    "mapping": values["mapping"],
                    "filter": values["filter"],
                }
            )
            return await _rule_page(rules, rule, form=form, preview=sample)
        await rules.update(rule.id, values)
    except ValidationFailed as error:
        return await _rule_page(rules, rule, form=form, errors=field_errors(error), status_code=422)
    except NotFound as error:
        return await _rule_page(rules, rule, form=form, alert=refusal_of(error), status_code=404)
    return Redirect(f"/console/sync/rules/{rule.id}?done=saved")


@post("/console/sync/rules/{sync_rule_id:uuid}/activate", opt=requires(RULE, "update"), include_in_schema=False)
async def activate_page(sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> Template | Redirect:
    try:
        await rules.activate(sync_rule_id)
    except (Conflict, ValidationFailed) as error:
        return await _rule_page(rules, await rules.get(sync_rule_id), alert=refusal_of(error), status_code=409)
    return Redirect(f"/console/sync/rules/{sync_rule_id}?done=activated")


@post("/console/sync/rules/{sync_rule_id:uuid}/pause", opt=requires(RULE, "update"), include_in_schema=False)
async def pause_page(sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> Redirect:
    await rules.pause(sync_rule_id)
    return Redirect(f"/console/sync/rules/{sync_rule_id}?done=paused")


@post("/console/sync/rules/{sync_rule_id:uuid}/delete", opt=requires(RULE, "delete"), include_in_schema=False)
async def delete_page(sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> Template | Redirect:
    try:
        await rules.delete(sync_rule_id)
    except Conflict as error:
        return await _rule_page(rules, await rules.get(sync_rule_id), alert=refusal_of(error), status_code=409)
    return Redirect("/console/sync?done=deleted")


@post("/console/sync/rules/{sync_rule_id:uuid}/reconcile", opt=requires(RULE, "update"), include_in_schema=False)
async def reconcile_page(sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> Template | Redirect:
    try:
        run = await rules.reconcile(sync_rule_id)
    except (Conflict, ValidationFailed) as error:
        return await _rule_page(rules, await rules.get(sync_rule_id), alert=refusal_of(error), status_code=409)
    return Redirect(f"/console/sync/reconciliations/{run.id}?done=reconciling")


async def _report_page(
    rules: Rules,
    reconciliation_id: uuid.UUID,
    kind: str | None,
    page: str | None,
    *,
    notice: str | None = None,
    alert: str | None = None,
    status_code: int = 200,
) -> Template:
    run = await rules.reconciliation(reconciliation_id)
    rule = await rules.get(run.rule_id)
    obj = rules.objects.get(rule.object)
    chosen = {"kind": kind if kind in DRIFT_KINDS else ""}
    number = page_number(page)
    rows, total = await rules.drift(run.id, chosen["kind"] or None, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    return Template(
        "sync/crosstenant/reconciliation.html",
        context={
            **_shared(),
            "run": reconciliation_out(run),
            "rule": rule_out(rule, rules.objects),
            "rows": [drift_out(d) for d in rows],
            "field_labels": dict(obj.field_labels) if obj is not None else {},
            "kinds": DRIFT_KINDS,
            "total": total,
            "chosen": chosen,
            "notice": NOTICES.get(notice or ""),
            "alert": alert,
            "paging": paging(f"/console/sync/reconciliations/{run.id}", chosen, number, total, PAGE_SIZE),
        },
        status_code=status_code,
    )


@get(
    "/console/sync/reconciliations/{sync_reconciliation_id:uuid}",
    opt=requires(RULE, "read"),
    include_in_schema=False,
)
async def reconciliation_page(
    sync_reconciliation_id: FromPath[uuid.UUID],
    rules: RulesDep,
    kind: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    return await _report_page(rules, sync_reconciliation_id, kind, page, notice=done)


@post(
    "/console/sync/reconciliations/{sync_reconciliation_id:uuid}/repair",
    opt=requires(RULE, "update"),
    include_in_schema=False,
)
async def repair_page(sync_reconciliation_id: FromPath[uuid.UUID], data: Form, rules: RulesDep) -> Template | Redirect:
    kind = form_value(data, "kind") or None
    try:
        await rules.repair(sync_reconciliation_id, kind)
    except (Conflict, ValidationFailed) as error:
        return await _report_page(rules, sync_reconciliation_id, kind, None, alert=refusal_of(error), status_code=409)
    return Redirect(f"/console/sync/reconciliations/{sync_reconciliation_id}?done=repairing")


@get("/console/sync/conflicts", opt=requires(CONFLICT, "read"), include_in_schema=False)
async def conflicts_page(
    rules: RulesDep,
    status: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    chosen = {"status": status if status in ("held", "resolved") else "held"}
    number = page_number(page)
    rows, total = await rules.conflicts(chosen["status"], PAGE_SIZE, (number - 1) * PAGE_SIZE)
    names = {r.id: r.name for r in await rules.list()}
    return Template(
        "sync/crosstenant/conflicts.html",
        context={
            **_shared(),
            "rows": [{**conflict_out(c), "rule_name": names.get(c.rule_id, "")} for c in rows],
            "field_labels": {k: v for o in rules.objects.values() for k, v in o.field_labels.items()},
            "total": total,
            "chosen": chosen,
            "notice": NOTICES.get(done or ""),
            "paging": paging("/console/sync/conflicts", chosen, number, total, PAGE_SIZE),
        },
    )


@post(
    "/console/sync/conflicts/{sync_conflict_id:uuid}/resolve",
    opt=requires(CONFLICT, "resolve"),
    include_in_schema=False,
)
async def resolve_page(sync_conflict_id: FromPath[uuid.UUID], data: Form, rules: RulesDep) -> Redirect:
    await rules.resolve(sync_conflict_id, data.get("resolution"))
    return Redirect("/console/sync/conflicts?done=resolved")


@get("/console/sync/incoming", opt=requires(RULE, "read"), include_in_schema=False)
async def incoming_page(rules: RulesDep, done: FromQuery[str | None] = None) -> Template:
    labels = {k: v for o in rules.objects.values() for k, v in o.field_labels.items()}
    context = {
        **_shared(),
        "rules": await rules.incoming(),
        "field_labels": labels,
        "notice": NOTICES.get(done or ""),
    }
    return Template("sync/crosstenant/incoming.html", context=context)


@post("/console/sync/incoming/{sync_rule_id:uuid}/pause", opt=requires(RULE, "update"), include_in_schema=False)
async def pause_incoming_page(sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> Redirect:
    await rules.peer_pause(sync_rule_id)
    return Redirect("/console/sync/incoming?done=peer_paused")


@post("/console/sync/incoming/{sync_rule_id:uuid}/resume", opt=requires(RULE, "update"), include_in_schema=False)
async def resume_incoming_page(sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> Redirect:
    await rules.peer_resume(sync_rule_id)
    return Redirect("/console/sync/incoming?done=peer_resumed")


PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[
            rules_page,
            create_rule_page,
            rule_page,
            save_rule_page,
            activate_page,
            pause_page,
            delete_page,
            conflicts_page,
            resolve_page,
            incoming_page,
            pause_incoming_page,
            resume_incoming_page,
            reconcile_page,
            reconciliation_page,
            repair_page,
        ],
        dependencies=DEPENDENCIES,
    )
]
