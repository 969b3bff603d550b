"""Days and hours in a site's time zone: which day a beacon counts for, and when a day is final."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

# A day's counts are final this long after its last moment, so writes in flight at midnight
# (and clocks a little apart between processes) land before they are read.
FINAL_AFTER = dt.timedelta(minutes=15)
UTC_MIN = dt.datetime.min.replace(tzinfo=dt.UTC)
UTC_MAX = dt.datetime.max.replace(tzinfo=dt.UTC)


@functools.lru_cache(maxsize=1024)
def zone(name: str) -> dt.tzinfo:
    return dt.UTC if name == "UTC" else zoneinfo.ZoneInfo(name)


def local_slot(zone_name: str, moment: dt.datetime) -> tuple[dt.date, int]:
    """The site-local day and hour of a moment: all the time a page-view fact ever keeps."""
    local = moment.astimezone(zone(zone_name))
    return local.date(), local.hour


def local_today(zone_name: str, moment: dt.datetime) -> dt.date:
    return moment.astimezone(zone(zone_name)).date()


def day_start(zone_name: str, day: dt.date) -> dt.datetime:
    """The first moment of a local day, in UTC (at the ends of the calendar, the ends of time)."""
    try:
        return dt.datetime.combine(day, dt.time(), zone(zone_name)).astimezone(dt.UTC)
    except OverflowError:
        return UTC_MIN if day.year == 1 else UTC_MAX


def day_end(zone_name: str, day: dt.date) -> dt.datetime:
    """The first moment after a local day, in UTC."""
    if day == dt.date.max:
        return UTC_MAX
    return day_start(zone_name, day + dt.timedelta(days=1))


def hour_end(zone_name: str, day: dt.date, hour: int) -> dt.datetime:
    """The first moment after a local hour, in UTC (a repeated hour ends at its second turn)."""
    local = dt.datetime.combine(day, dt.time(hour, fold=1), zone(zone_name))
    return local.astimezone(dt.UTC) + dt.timedelta(hours=1)


def last_final_day(zone_name: str, now: dt.datetime) -> dt.date:
    """The latest local day whose counts are final at `now`."""
    return local_today(zone_name, now - FINAL_AFTER) - dt.timedelta(days=1)


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from first to last, both included."""
    count = (last - first).days + 1
    return [first + dt.timedelta(days=i) for i in range(max(count, 0))]


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def whole_months(first: dt.date, last: dt.date, kept_from: dt.date) -> tuple[dt.date, dt.date]:
    """The months lying wholly within `first`..`last` and on or after `kept_from`, as
    [start, end); an empty window (start == end) when there are none."""
    start = max(first, kept_from)
    if start.day != 1:
        start = dt.date.max if start.year == 9999 and start.month == 12 else _next_month(start)
    end = _month_start(last) if last == dt.date.max else _month_start(last + dt.timedelta(days=1))
    return (start, end) if start < end else (first, first)
