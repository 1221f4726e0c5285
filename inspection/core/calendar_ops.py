"""Operations on the bureau's working-day calendar (see :mod:`.workdays`).

A year is entered from the State Council's notice and replaces, atomically, whatever was
entered for that year before (or the library's table for it). There is no deletion: a wrong
entry is corrected by entering the year again, and the audit trail keeps every version's
differences and the hash of the file it came from.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from . import audit, storage, workdays
from .errors import Conflict, NotFound
from .models import CalendarDay, CalendarYear, User, utcnow
from .workdays import DayEntry

#: The area of the file store that keeps the files years were entered from.
STORE_AREA = "calendars"


def enter_year(year: int, source: str, days: Iterable[DayEntry | tuple[date, bool, str]],
               actor: User | None = None, *, original: bytes | None = None,
               filename: str = "") -> CalendarYear:
    """Enter (or replace) the bureau's calendar of ``year``: ``days`` are the days that
    differ from the weekend rule (``DayEntry(day, is_workday, name)``), ``source`` the notice
    they come from. The rules of :func:`.workdays.check_calendar` apply. ``original`` (the
    bytes of the imported file) is kept in the file store and its SHA-256 is in the audit
    entry. Writes the audit trail in the same transaction and commits.

    Raises :class:`.errors.ValidationFailed` (nothing is changed) or :class:`.errors.Conflict`
    when another entry of the same year was committed at the same time."""
    year, source, clean = workdays.check_calendar(
        year, source, [d if isinstance(d, DayEntry) else DayEntry(*d) for d in days])
    sha = storage.put(STORE_AREA, original) if original is not None else None
    try:
        entry = db.session.get(CalendarYear, year)
        before = {d.day: d.is_workday for d in db.session.scalars(
            select(CalendarDay).where(CalendarDay.year == year))}
        previous_source = entry.source if entry is not None else None
        if entry is None:
            entry = CalendarYear(year=year)
            db.session.add(entry)
        else:
            db.session.execute(delete(CalendarDay).where(CalendarDay.year == year))
        entry.source = source
        entry.entered_by_id = actor.id if actor is not None else None
        entry.entered_at = utcnow()
        db.session.flush()
        db.session.add_all(CalendarDay(day=d.day, year=year, is_workday=d.is_workday,
                                       name=d.name) for d in clean)
        db.session.flush()
        after = {d.day: d.is_workday for d in clean}
        summary = {
            "source": source,
            "holidays": sum(1 for d in clean if not d.is_workday),
            "workdays": sum(1 for d in clean if d.is_workday),
            "replaced": previous_source is not None,
            "library_year": year in workdays.library_years(),
        }
        if previous_source is not None:
            summary["previous_source"] = previous_source
            summary["added"] = sorted(d.isoformat() for d in after.keys() - before.keys())
            summary["removed"] = sorted(d.isoformat() for d in before.keys() - after.keys())
            summary["changed"] = sorted(d.isoformat() for d in after.keys() & before.keys()
                                        if after[d] != before[d])
        if sha:
            summary["file_sha256"] = sha
            summary["filename"] = filename[:200]
        audit.record("calendar.replace" if previous_source is not None else "calendar.enter",
                     "calendar_year", year, summary, actor=actor)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("The calendar of %(year)d was entered by someone else at the same "
                         "time. Please look at it and try again.", year=year)) from None
    except BaseException:
        db.session.rollback()
        raise
    finally:
        workdays.clear_cache()
    return entry


def get_year(year: int) -> CalendarYear:
    entry = db.session.get(CalendarYear, year)
    if entry is None:
        raise NotFound(_("The bureau has not entered a calendar for %(year)d.", year=year))
    return entry


def year_days(year: int) -> list[CalendarDay]:
    """The listed days of a bureau year, in order (one query)."""
    return list(db.session.scalars(select(CalendarDay).where(CalendarDay.year == year)
                                   .order_by(CalendarDay.day)))
