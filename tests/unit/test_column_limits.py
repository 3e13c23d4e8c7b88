"""The bounds the store checks before a flush, read from the columns' types."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import inspect

from apps.ordering.models import Payment
from interconnect.models import EnterpriseLink
from portal.db.limits import limits_of


def test_text_lengths_and_number_ranges_come_from_the_columns() -> None:
    texts, _numbers = limits_of(inspect(EnterpriseLink))
    assert dict(texts)["contact_phone"] == 40
    _texts, numbers = limits_of(inspect(Payment))
    ranges = {key: (low, high) for key, low, high in numbers}
    assert ranges["amount"] == (Decimal("-99999999999999.9999"), Decimal("99999999999999.9999"))
