"""Chinese working days: the one module every deadline counts through.

Weekends and statutory holidays are off; adjusted working weekend days (调休) are on. The
State Council publishes each year's arrangement in November, so the source of truth is, for
each year:

1. inside an app context, the year the bureau entered (:class:`~.models.CalendarYear` and its
   :class:`~.models.CalendarDay` rows, see :mod:`.calendar_ops`), which takes precedence;
2. otherwise the table of the ``chinesecalendar`` package (years 2004 up to the last year of
   the installed release);
3. otherwise the year is unknown and :class:`UnknownCalendarYear` is raised. A deadline is
   never computed on weekends alone (DOMAIN.md, "Working days").

A bureau year's days are read once per app context (two queries, cached on :data:`flask.g`),
never one query per day. Outside an app context only the library is used.

:func:`parse_calendar` reads the import file (CSV or JSON, see ``docs/workdays.md``) and
:func:`check_calendar` holds the rules an entered year must follow; both are pure.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import chinese_calendar
from chinese_calendar import constants as _library
from flask import g, has_app_context
from flask_babel import gettext as _

from .errors import ValidationFailed

#: ``source`` of a year in :func:`known_years`.
BUREAU = "bureau"
LIBRARY = "library"

#: Sanity bounds of a year the bureau may enter.
MIN_YEAR, MAX_YEAR = 2000, 2100
#: At most this many problems are listed when a file is refused.
MAX_PROBLEMS = 10

_G_KEY = "_workdays_bureau_years"


class UnknownCalendarYear(Exception):
    """No calendar for ``year``: neither the library's table nor a year the bureau entered."""

    def __init__(self, year: int):
        self.year = int(year)
        super().__init__(
            f"no working-day calendar for {self.year}: the chinesecalendar table ends with "
            f"{library_years()[-1]} and the bureau has not entered {self.year} "
            f"(flask --app app calendar import FILE, or /admin/calendar)")


class DayEntry(NamedTuple):
    """A day that differs from the weekend rule (or a named holiday on a weekend)."""

    day: date
    is_workday: bool
    name: str = ""


# ---------------------------------------------------------------------------------------------
# The library's table


@lru_cache(maxsize=1)
def library_years() -> tuple[int, ...]:
    """The years the installed ``chinesecalendar`` knows, in order.

    The library itself accepts exactly the years between the first and the last year of its
    ``holidays`` table and raises ``NotImplementedError`` for any other; we read the same
    bounds instead of probing."""
    keys = _library.holidays.keys()
    return tuple(range(min(keys).year, max(keys).year + 1))


def library_version() -> str:
    return getattr(chinese_calendar, "__version__", "")


def _library_is_workday(day: date) -> bool:
    # The library's own rule (chinese_calendar.is_workday) without re-scanning its whole
    # table for the year bounds on every call: the caller has checked the year.
    if day in _library.workdays:
        return True
    return day.weekday() < 5 and day not in _library.holidays


# ---------------------------------------------------------------------------------------------
# The bureau's years


def _bureau_years() -> dict[int, dict[date, bool]]:
    """Every year the bureau entered, with its days, read once per app context."""
    if not has_app_context():
        return {}
    cached = g.get(_G_KEY)
    if cached is None:
        from sqlalchemy import select

        from ..extensions import db
        from .models import CalendarDay, CalendarYear

        cached = {year: {} for year in db.session.scalars(select(CalendarYear.year))}
        for day, year, workday in db.session.execute(
                select(CalendarDay.day, CalendarDay.year, CalendarDay.is_workday)):
            cached.setdefault(year, {})[day] = workday
        setattr(g, _G_KEY, cached)
    return cached


def clear_cache() -> None:
    """Forget the bureau years read in this app context (after a year is entered)."""
    if has_app_context():
        g.pop(_G_KEY, None)


# ---------------------------------------------------------------------------------------------
# The contract


def _as_date(day: date) -> date:
    return day.date() if isinstance(day, datetime) else day


def is_workday(day: date) -> bool:
    """Whether ``day`` is a working day. Raises :class:`UnknownCalendarYear`."""
    day = _as_date(day)
    bureau = _bureau_years().get(day.year)
    if bureau is not None:
        listed = bureau.get(day)
        return day.weekday() < 5 if listed is None else listed
    if day.year in library_years():
        return _library_is_workday(day)
    raise UnknownCalendarYear(day.year)


def add_workdays(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (``n`` >= 0; ``n`` = 0 is ``day`` itself).

    Raises :class:`UnknownCalendarYear` when the count reaches a year with no calendar."""
    if n < 0:
        raise ValueError("n must be >= 0")
    day = _as_date(day)
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day


def workdays_between(a: date, b: date) -> int:
    """The number of working days ``d`` with ``a < d <= b``; negative when ``b < a``
    (``-workdays_between(b, a)``). Raises :class:`UnknownCalendarYear`."""
    a, b = _as_date(a), _as_date(b)
    if b < a:
        return -workdays_between(b, a)
    count, day = 0, a
    while day < b:
        day += timedelta(days=1)
        if is_workday(day):
            count += 1
    return count


def deadline_info(start: date, n: int) -> dict[str, Any]:
    """``add_workdays(start, n)`` for display: ``{"deadline": date | None, "missing_year":
    int | None}``; never raises :class:`UnknownCalendarYear` (show "calendar for YEAR
    missing" when ``missing_year`` is set)."""
    try:
        return {"deadline": add_workdays(start, n), "missing_year": None}
    except UnknownCalendarYear as error:
        return {"deadline": None, "missing_year": error.year}


def missing_year_message(year: int) -> str:
    """The sentence to show where a deadline falls in a year with no calendar."""
    return _("The working-day calendar for %(year)d is missing: an administrator must enter "
             "it before this deadline can be computed.", year=year)


def known_years() -> list[dict[str, Any]]:
    """Every year with a calendar, in order: ``{"year", "source" ("bureau" | "library"),
    "reference" (the notice a bureau year comes from, or the library and its version),
    "entered_by" (user name or None), "entered_at" (UTC datetime or None),
    "holidays", "workdays" (numbers of listed days; None for a library year),
    "overrides_library" (bool)}``."""
    years: dict[int, dict[str, Any]] = {}
    library = library_years()
    reference = f"chinesecalendar {library_version()}".strip()
    for year in library:
        years[year] = {"year": year, "source": LIBRARY, "reference": reference,
                       "entered_by": None, "entered_at": None, "holidays": None,
                       "workdays": None, "overrides_library": False}
    if has_app_context():
        from sqlalchemy import select

        from ..extensions import db
        from .models import CalendarYear, User

        bureau = _bureau_years()
        rows = db.session.execute(
            select(CalendarYear, User.username)
            .outerjoin(User, User.id == CalendarYear.entered_by_id))
        for entry, username in rows:
            days = bureau.get(entry.year, {})
            years[entry.year] = {
                "year": entry.year, "source": BUREAU, "reference": entry.source,
                "entered_by": username, "entered_at": entry.entered_at,
                "holidays": sum(1 for w in days.values() if not w),
                "workdays": sum(1 for w in days.values() if w),
                "overrides_library": entry.year in library}
    return [years[y] for y in sorted(years)]


def is_known_year(year: int) -> bool:
    return year in _bureau_years() or year in library_years()


# ---------------------------------------------------------------------------------------------
# The import file (pure)


def check_calendar(year: Any, source: Any, days: list[DayEntry]
                   ) -> tuple[int, str, list[DayEntry]]:
    """Check a year's entry and return it clean: ``(year, source, days sorted by date)``.

    Rules: a year between 2000 and 2100; a source (the notice) of at most 200 characters;
    every date in that year; no date listed twice; an adjusted working day (``is_workday``)
    must be a Saturday or Sunday; at least one holiday. A holiday on a Saturday or Sunday is
    accepted and kept (the notice lists the whole holiday, weekend included): it changes no
    count, since the day is off anyway. Raises :class:`ValidationFailed`."""
    problems: list[str] = []
    fields: dict[str, list[str]] = {}
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationFailed(_("The calendar does not say which year it is for."),
                               fields={"year": [_("A year is required.")]}) from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        message = _("The year must be between %(low)d and %(high)d.", low=MIN_YEAR,
                    high=MAX_YEAR)
        raise ValidationFailed(message, fields={"year": [message]})
    source = " ".join(str(source or "").split())
    if len(source) > 200:
        message = _("The source is longer than 200 characters.")
        fields["source"] = [message]
        problems.append(message)
    seen: set[date] = set()
    for entry in days:
        shown = entry.day.isoformat()
        if entry.day.year != year:
            problems.append(_("%(date)s is not in %(year)d.", date=shown, year=year))
        if entry.day in seen:
            problems.append(_("%(date)s is listed twice.", date=shown))
        seen.add(entry.day)
        if entry.is_workday and entry.day.weekday() < 5:
            problems.append(_("%(date)s is listed as an adjusted working day but is not a "
                              "Saturday or Sunday.", date=shown))
        if len(entry.name) > 100:
            problems.append(_("The name of %(date)s is longer than 100 characters.",
                              date=shown))
    if not any(not entry.is_workday for entry in days):
        problems.append(_("The calendar lists no holidays."))
    if problems:
        _refuse(problems, fields)
    clean = sorted((DayEntry(e.day, bool(e.is_workday), " ".join(e.name.split()))
                    for e in days), key=lambda e: e.day)
    return year, source, clean


def _refuse(problems: list[str], fields: dict[str, list[str]] | None = None):
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(_("and %(count)d more problems.", count=len(problems) - MAX_PROBLEMS))
    fields = dict(fields or {})
    fields.setdefault("file", shown)
    raise ValidationFailed(_("The calendar was not entered: %(problems)s",
                             problems=" ".join(shown)), fields=fields)


def _parse_date(value: Any, where: str, problems: list[str]) -> date | None:
    text = str(value or "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(_("%(where)s: %(value)s is not a date (write YYYY-MM-DD).",
                          where=where, value=text or '""'))
        return None


def parse_calendar(text: str, filename: str = "") -> tuple[int, str, list[DayEntry]]:
    """Read a year's calendar from the text of an import file and check it
    (:func:`check_calendar`). The format follows the file name (``.csv`` or ``.json``); a
    pasted text without a name is JSON when it starts with ``{``, CSV otherwise. The formats
    are described in ``docs/workdays.md``. Returns ``(year, source, days)``; raises
    :class:`ValidationFailed` naming every problem (up to ten)."""
    text = (text or "").lstrip("\ufeff")
    if not text.strip():
        _refuse([_("The file is empty.")])
    name = (filename or "").lower()
    if name.endswith(".json"):
        kind = "json"
    elif name.endswith(".csv") or name.endswith(".txt"):
        kind = "csv"
    elif not name:
        kind = "json" if text.lstrip().startswith("{") else "csv"
    else:
        _refuse([_("Only CSV and JSON files can be read.")])
    year, source, days = _parse_json(text) if kind == "json" else _parse_csv(text)
    return check_calendar(year, source, days)


def _parse_json(text: str) -> tuple[Any, str, list[DayEntry]]:
    try:
        data = json.loads(text)
    except ValueError as error:
        _refuse([_("The file is not valid JSON (line %(line)d).",
                   line=getattr(error, "lineno", 0))])
    if not isinstance(data, dict):
        _refuse([_("The JSON file must hold one object with year, source, holidays and "
                   "workdays.")])
    problems: list[str] = []
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, (int, str)) or \
            not str(year).strip().isdigit():
        problems.append(_("\"year\" must be a year such as 2027."))
        year = None
    source = data.get("source", "")
    if not isinstance(source, str):
        problems.append(_("\"source\" must be a text."))
        source = ""
    days: list[DayEntry] = []
    for key, workday in (("holidays", False), ("workdays", True)):
        items = data.get(key, [])
        if not isinstance(items, list):
            problems.append(_("\"%(key)s\" must be a list.", key=key))
            continue
        for index, item in enumerate(items, start=1):
            where = f"{key}[{index}]"
            if isinstance(item, str):
                item = {"date": item}
            if not isinstance(item, dict):
                problems.append(_("%(where)s must be an object with date and name.",
                                  where=where))
                continue
            day = _parse_date(item.get("date"), where, problems)
            name = item.get("name", "")
            if not isinstance(name, str):
                problems.append(_("%(where)s: the name must be a text.", where=where))
                name = ""
            if day is not None:
                days.append(DayEntry(day, workday, name))
    unknown = sorted(set(data) - {"year", "source", "holidays", "workdays"})
    if unknown:
        problems.append(_("Unknown keys: %(keys)s.", keys=", ".join(unknown)))
    if problems:
        _refuse(problems)
    return year, source, days


KINDS = {"holiday": False, "workday": True}


def _parse_csv(text: str) -> tuple[Any, str, list[DayEntry]]:
    problems: list[str] = []
    source = ""
    year: Any = None
    days: list[DayEntry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            key, sep, value = stripped.lstrip("#").partition(":")
            if sep and key.strip().lower() == "source":
                source = value.strip()
            elif sep and key.strip().lower() == "year":
                year = value.strip()
            continue
        row = next(csv.reader(io.StringIO(stripped)))
        cells = [c.strip() for c in row]
        if [c.lower() for c in cells[:2]] == ["date", "kind"]:
            continue  # the header
        where = _("line %(line)d", line=number)
        if len(cells) < 2 or len(cells) > 3:
            problems.append(_("%(where)s: expected date,kind,name.", where=where))
            continue
        day = _parse_date(cells[0], where, problems)
        kind = cells[1].lower()
        if kind not in KINDS:
            problems.append(_("%(where)s: the kind must be holiday or workday, not "
                              "%(kind)s.", where=where, kind=cells[1] or '""'))
            continue
        if day is not None:
            days.append(DayEntry(day, KINDS[kind], cells[2] if len(cells) == 3 else ""))
    if problems:
        _refuse(problems)
    if year is None:
        years = {d.day.year for d in days}
        if len(years) > 1:
            _refuse([_("The dates span several years (%(years)s); a file holds one year.",
                       years=", ".join(str(y) for y in sorted(years)))])
        year = years.pop() if years else None
    if year is None:
        _refuse([_("The file lists no days.")])
    return year, source, days
