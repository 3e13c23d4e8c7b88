"""Every audited table has a name people read in the audit log and on the console home."""

from __future__ import annotations

from portal.audit import Audited
from portal.components import import_models, load_components
from portal.db.base import Base
from portal.ui.labels import OBJECT_LABELS


def test_every_audited_table_is_named() -> None:
    import_models(load_components())
    tables = {m.class_.__tablename__ for m in Base.registry.mappers if issubclass(m.class_, Audited)}
    assert sorted(tables - set(OBJECT_LABELS)) == []
