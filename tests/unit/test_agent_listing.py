"""What the agent app's lists and dashboard read from an address: days where the tenant is, months, orders,
and the dashboard's periods and buckets; and the recycling reason a lead is taken back for."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from apps.agent.amounts import money
from apps.agent.commissions.statements import ended_period_end, last_ended, month
from apps.agent.dashboard.figures import period_of
from apps.agent.leads.models import Lead
from apps.agent.leads.rules import recycle_reason
from apps.agent.listing import Sorts, day, span, with_query
from portal.errors import ValidationFailed


def test_days_bound_the_tenants_days_and_anything_else_is_no_filter() -> None:
    chosen = span("2026-12-01", "2026-12-02", "Asia/Shanghai")
    assert chosen.since == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert chosen.until == datetime(2026, 12, 2, 16, tzinfo=UTC)  # the end of the last day
    assert chosen.query == {"from": "2026-12-01", "to": "2026-12-02"}
    open_ended = span("yesterday", None, "UTC")
    assert (open_ended.since, open_ended.until, open_ended.where(object())) == (None, None, [])
    assert day("2026-02-30") is None and day("") is None and day("2026-02-28x") == date(2026, 2, 28)


def test_months_orders_and_links() -> None:
    assert month("2026-11") == "2026-11" and month("2026-13") is None and month("'; --") is None
    sorts = Sorts({"newest": ("Newest", ()), "oldest": ("Oldest", ())})
    assert sorts.chosen("oldest") == "oldest" and sorts.chosen("drop table") == "newest"
    assert with_query("/x", {"a": "1", "b": "", "c": None}) == "/x?a=1" and with_query("/x", {}) == "/x"


def test_a_statement_waits_for_its_month_to_end() -> None:
    assert last_ended(date(2026, 1, 15)) == "2025-12" and last_ended(date(2026, 3, 1)) == "2026-02"
    assert ended_period_end("2026-11", date(2026, 12, 1)) == date(2026, 12, 1)
    for period in ("2026-12", "2027-01"):
        try:
            ended_period_end(period, date(2026, 12, 31))
        except ValidationFailed as refused:
            (error,) = refused.errors
            assert (error.field, error.code, error.params["period"]) == ("period", "period_not_ended", period)
        else:
            raise AssertionError(f"{period} was accepted")


def test_periods_are_days_weeks_or_four_weeks() -> None:
    short, quarter, year = period_of(28, "UTC"), period_of(91, "UTC"), period_of(364, "UTC")
    assert (short.bucket_days, short.buckets) == (1, 28)
    assert (quarter.bucket_days, quarter.buckets) == (7, 13)
    assert (year.bucket_days, year.buckets) == (28, 13)
    assert quarter.bucket(12) == (quarter.start + timedelta(days=84), quarter.end)
    assert period_of(5, "UTC").days == 28  # an unknown period is the default


def test_a_lead_goes_back_for_the_deadline_that_came_first() -> None:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    assert recycle_reason(Lead(follow_up_due=now, convert_due=now + timedelta(days=1))) == "no_follow_up"
    assert recycle_reason(Lead(follow_up_due=now + timedelta(days=2), convert_due=now)) == "no_conversion"
    assert recycle_reason(Lead(follow_up_due=None, convert_due=now)) == "no_conversion"
    assert recycle_reason(Lead(follow_up_due=now, convert_due=None)) == "no_follow_up"


def test_an_amount_beyond_the_range_says_the_range_however_it_is_written() -> None:
    for typed in ("100000000000000000000", "1e20", "10^20", "10 ** 20", "10²⁰", "999999^9999"):
        try:
            money("amount", typed)
        except ValidationFailed as refused:
            assert refused.errors[0].code == "out_of_range", typed
        else:
            raise AssertionError(typed)
    for typed in ("lots", "10^3", ""):
        try:
            money("amount", typed)
        except ValidationFailed as refused:
            assert refused.errors[0].code == "invalid" and "high" in refused.errors[0].params, typed
        else:
            raise AssertionError(typed)
