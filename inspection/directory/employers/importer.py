"""Import of the employers directory from CSV or XLSX, shared by the web page, the CLI, the
demo data and the benchmark (``python -m bench.import_employers``).

A file goes through two steps. :func:`preview` validates every row (nothing is written) and
says what an import would do; :func:`run_import` validates again and upserts by credit code,
in ONE transaction: a failure midway leaves nothing, and a file with problems writes nothing
unless ``only_valid`` is chosen.

Speed (a province is 10^6 employers): rows are streamed from the file; a CSV row that is
plainly valid is checked on its raw cells with exact look-ups (:meth:`Validator.fast_row`),
anything else goes through the full check (:meth:`Validator.row`), which says what is wrong.
Rows are written in batches of a few thousand through the DB-API (``executemany``; ``COPY``
for new rows on PostgreSQL), never through the ORM. Each batch first looks up which of its
codes exist, to split new rows from updates -- unless the directory was empty when the import
began (then every valid row is new). Memory stays flat: one batch of rows plus the codes seen
(for duplicates in the file), kept exactly in 8-16 bytes each (:class:`CodeSet`).

History of an import (a deliberate choice, to keep the speed target):
- an UPDATED employer gets a :class:`DirectoryChange` row (``action='import'``, the diff and
  ``import_id``), exactly as a single edit does;
- a CREATED employer gets NO change row: ``Employer.import_id`` names the batch that created it
  (it is set once and never changed by later imports), and :func:`operations.history` shows it
  as "created by import #N" with the batch's actor and time;
- the batch itself is one :class:`ImportBatch` row plus one audit entry.
"""
from __future__ import annotations

import hashlib
import json
import re
from array import array
from operator import itemgetter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from ...core import audit, storage
from ...core.errors import NotFound, ValidationFailed
from ...core.models import User, utcnow
from ...extensions import db
from .. import credit_code as cc
from ..models import Employer, ImportBatch, Region
from ..reference import EMPLOYER_TYPES, INDUSTRIES
from ..tabular import Column, TableError, _cell, _csv_rows, _header_index, read_rows
from .labels import FLAGS, GRADES, STATUSES, is_zh, pick

#: Stored fields besides the credit code, in the order of a row tuple after the code.
FIELDS = ("name", "employer_type", "address", "region_code", "industry",
          "legal_representative", "contact_phone", "employees", "risk_grade",
          "flag_complaints", "flag_abnormal", "flag_serious_violation", "status", "notes")
ROW_FIELDS = ("credit_code",) + FIELDS
FLAG_FIELDS = tuple(f for f, _zh, _en in FLAGS)

COLUMNS: tuple[Column, ...] = (
    Column("credit_code", "统一社会信用代码", "Credit code", True, "18位，GB 32100"),
    Column("name", "单位名称", "Name", True, "营业执照上的名称"),
    Column("employer_type", "单位类型", "Employer type", True, "企业、个体经济组织（个体工商户）、事业单位……"),
    Column("address", "地址", "Address"),
    Column("region_code", "所属街道/乡镇", "Region", True, "区划代码或街道/乡镇名称"),
    Column("industry", "行业门类", "Industry", True, "GB/T 4754 门类字母 A–T 或名称"),
    Column("legal_representative", "法定代表人", "Legal representative"),
    Column("contact_phone", "联系电话", "Contact phone"),
    Column("employees", "职工人数", "Employees", False, "整数"),
    Column("risk_grade", "风险等级", "Risk grade", False, "A/B/C/D，空为B"),
    Column("flag_complaints", "投诉较多", "Frequent complaints", False, "是/否"),
    Column("flag_abnormal", "经营异常名录", "Abnormal-operation list", False, "是/否"),
    Column("flag_serious_violation", "严重违法记录", "Serious violation record", False, "是/否"),
    Column("status", "状态", "Status", False, "在营/注销/迁出/关闭，空为在营"),
    Column("notes", "备注", "Notes"),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
_KEYS = tuple(c.key for c in COLUMNS)
_HINTS = {c.key: c.hint for c in COLUMNS}
MAX_LENGTH = {"name": 200, "address": 300, "legal_representative": 50, "contact_phone": 30,
              "notes": 4000}
MAX_EMPLOYEES = 10_000_000
#: Problems kept for display; beyond that they are only counted.
MAX_PROBLEMS = 1000
BATCH_SIZE = 5000

_PHONE = re.compile(r"[0-9０-９+\-()（） /,，、转#*]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")

# --- the fast credit-code check -------------------------------------------------------------
# Both checksums are polynomials, so ``int()`` (C code) evaluates them in one call each:
# - GB 32100 weights are 3**i mod 31 and 34 = 3 (mod 31): positions 17..1, each written as
#   the base-34 digit of its value, read as one base-34 number give the weighted sum mod 31;
# - GB 11714 weights, read backwards, are 2 * 2**j mod 11 and 35 = 2 (mod 11), and base-35
#   digits are the base-36 values 0-Y: positions 9-16 read as a base-35 number, times 2.
# Any character outside the alphabet becomes "!", which ``int()`` refuses.
_TO_B34 = bytearray(b"!" * 256)
for _i, _ch in enumerate(cc.ALPHABET):
    _TO_B34[ord(_ch)] = ord("0123456789ABCDEFGHIJKLMNOPQRSTU"[_i])
_TO_B34 = bytes(_TO_B34)
_CHECK_CHAR = tuple(cc.ALPHABET[-r % 31] for r in range(31))
_ORG_CHECK = tuple("X" if 11 - r == 10 else "0" if 11 - r == 11 else str(11 - r)
                   for r in range(11))
_DIVISIONS_OK = cc.PROVINCE_PREFIXES
_CENTRAL = cc.CENTRAL_DIVISION


def fast_valid(code: str) -> bool:
    """The same verdict as :func:`credit_code.is_valid` for a normalised code, many times
    faster (no loop in Python: see above)."""
    if len(code) != 18 or not code.isascii():
        return False
    try:
        total = int(code.encode()[16::-1].translate(_TO_B34), 34)
    except ValueError:
        return False
    if _CHECK_CHAR[total % 31] != code[17] or _ORG_CHECK[2 * int(code[8:16], 35) % 11] != code[16]:
        return False
    division = code[2:8]
    return division.isdigit() and (division[:2] in _DIVISIONS_OK or division == _CENTRAL)


# --- results ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One problem of one row: where (row as Excel numbers it, column) and why."""

    row: int
    column: str      # the column key
    label: str       # the column's header in the user's language
    value: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.label}: {self.reason}"


@dataclass
class Report:
    filename: str = ""
    sha256: str = ""
    only_valid: bool = False
    rows_total: int = 0
    rows_invalid: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    batch_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.rows_invalid == 0

    def summary(self) -> dict[str, Any]:
        return {"filename": self.filename, "sha256": self.sha256, "only_valid": self.only_valid,
                "rows_total": self.rows_total, "rows_invalid": self.rows_invalid,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged}


class ImportRejected(ValidationFailed):
    """The file has problems and the user did not choose to import only the valid rows."""

    def __init__(self, report: Report):
        super().__init__(_("The file has %(n)d problems in %(rows)d rows; nothing was imported.",
                           n=report.problem_count, rows=report.rows_invalid))
        self.report = report


# --- validation ---------------------------------------------------------------------------
def _lookup(table: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for code, zh, en in table:
        for alias in (code, code.lower(), zh, en, en.lower()):
            out[alias] = code
    return out


_BOOLS = {"": False, "否": False, "0": False, "n": False, "no": False, "false": False,
          "f": False, "无": False, "是": True, "1": True, "y": True, "yes": True, "true": True,
          "t": True, "有": True, "√": True, "x": True}
#: Employee counts as most files write them (anything else is checked in full).
_EMPLOYEES: dict[str, int | None] = {str(n): n for n in range(10_000)}
_EMPLOYEES[""] = None
_MISSING = object()
_M64 = (1 << 64) - 1


class CodeSet:
    """The credit codes seen so far in a file, exactly, in about 8-16 bytes per code (a set
    of Python ints or strings takes 70-100).

    A valid code is fixed by positions 1-16 (17 and 18 are check characters): positions 1-2
    and 9-16 read in base 36 fit in 52 bits and positions 3-8 (the division) are numbered in
    the order met, 4096 of them in the 12 bits left. The 64-bit key goes into an
    open-addressing table in an ``array``. Other codes (invalid ones, legacy codes, a 4097th
    division) are kept as strings in a plain set: they are few."""

    def __init__(self) -> None:
        self.divisions: dict[str, int] = {}
        self.others: set[str] = set()
        self.count = 0
        self._alloc(16)

    def _alloc(self, bits: int) -> None:
        self.bits, self.shift, self.mask = bits, 64 - bits, (1 << bits) - 1
        self.limit = 1 << (bits - 1)  # at most half full
        self.table = array("Q", bytes(8 << bits))

    def __len__(self) -> int:
        return self.count + len(self.others)

    def add(self, code: str, valid: bool) -> bool:
        """Add ``code`` (``valid``: :func:`fast_valid` says so); False if it was there."""
        if valid:
            return self.add_valid(code)
        if code in self.others:
            return False
        self.others.add(code)
        return True

    def add_valid(self, code: str) -> bool:
        division = code[2:8]
        number = self.divisions.get(division)
        if number is None:
            if len(self.divisions) >= 4096:
                return self.add(code, False)
            number = self.divisions[division] = len(self.divisions)
        key = (number << 52 | int(code[:2] + code[8:16], 36)) + 1  # 0 marks a free slot
        table, mask = self.table, self.mask
        i = (key * 0x9E3779B97F4A7C15 & _M64) >> self.shift
        while True:
            found = table[i]
            if found == key:
                return False
            if not found:
                break
            i = (i + 1) & mask
        table[i] = key
        self.count += 1
        if self.count > self.limit:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self.table
        self._alloc(self.bits + 1)
        table, mask, shift = self.table, self.mask, self.shift
        for key in old:
            if key:
                i = (key * 0x9E3779B97F4A7C15 & _M64) >> shift
                while table[i]:
                    i = (i + 1) & mask
                table[i] = key


class Validator:
    """Turns one row of text into a stored row tuple (:data:`ROW_FIELDS`), or records its
    problems. Built once per file: it loads the regions and the label tables."""

    def __init__(self, lang: str = "zh_CN", track_duplicates: bool = True):
        self.lang = lang
        self.zh = is_zh(lang)
        self.regions: dict[str, str] = {}
        by_name: dict[str, list[str]] = {}
        for code, name, county in db.session.execute(
                select(Region.code, Region.name, Region.county_name)):
            self.regions[code] = code
            by_name.setdefault(name, []).append(code)
            by_name.setdefault(county + name, []).append(code)
        self.ambiguous = set()
        for name, codes in by_name.items():
            if len(codes) == 1:
                self.regions.setdefault(name, codes[0])
            else:
                self.ambiguous.add(name)
        self.types = _lookup(EMPLOYER_TYPES)
        self.industries = _lookup(INDUSTRIES)
        for code, zh, _en in INDUSTRIES:
            self.industries[f"{code} {zh}"] = self.industries[f"{code}{zh}"] = code
        self.grades = _lookup(GRADES)
        self.grades[""] = "B"
        self.statuses = _lookup(STATUSES)
        self.statuses[""] = "active"
        #: Non-conforming codes accepted by an officer: few, loaded once (no query per row).
        self.legacy = set(db.session.scalars(select(Employer.credit_code).where(
            Employer.code_override_reason.is_not(None))))
        self.seen: CodeSet | None = CodeSet() if track_duplicates else None

        def exact(table: dict[str, str]) -> dict[str, str]:  # what row() finds without .lower()
            return {k: v for k, v in table.items() if k == k.strip()}

        self._fast_tables = (exact(self.types), exact(self.regions), exact(self.industries),
                             exact(self.grades), exact(self.statuses))
        self.rows_total = 0
        self.rows_invalid = 0
        self.problem_count = 0
        self.problems: list[Problem] = []

    # problems ------------------------------------------------------------------------------
    def _problem(self, number: int, key: str, value: str, reason: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            col = COLUMN_BY_KEY[key]
            self.problems.append(Problem(number, key, col.zh if self.zh else col.en,
                                         value[:100], reason))

    def code_problems(self, code: str) -> list[str]:
        """Why ``code`` is refused, in the user's language ([] if it is valid)."""
        return [p.text(self.lang) for p in cc.check(code)]

    def _legacy(self, code: str) -> bool:
        """A non-conforming code already accepted by an officer (with a reason) may be
        re-imported: an export of the directory must import again."""
        return code in self.legacy

    # one row -------------------------------------------------------------------------------
    def row(self, number: int, v: dict[str, str], check_code: bool = True) -> tuple | None:
        self.rows_total += 1
        before = self.problem_count
        problem = self._problem
        get = v.get

        raw = get("credit_code", "")
        code = raw.upper() if raw.isascii() else cc.normalise(raw)
        if check_code and not fast_valid(code):
            code = cc.normalise(raw)
            if not fast_valid(code) and not self._legacy(code):
                problem(number, "credit_code", raw, " ".join(self.code_problems(code)))
        if code and self.seen is not None and not self.seen.add(code, fast_valid(code)):
            problem(number, "credit_code", raw, _("This credit code appears earlier in the file."))

        name = get("name", "")
        if not name:
            problem(number, "name", name, _("A name is required."))
        elif len(name) > 200:
            problem(number, "name", name, _("At most %(n)d characters.", n=200))

        text = get("employer_type", "")
        employer_type = self.types.get(text) or self.types.get(text.lower())
        if employer_type is None:
            problem(number, "employer_type", text,
                    _("Unknown employer type.") if text else _("An employer type is required."))

        address = get("address", "")
        if len(address) > 300:
            problem(number, "address", address, _("At most %(n)d characters.", n=300))

        text = get("region_code", "")
        region = self.regions.get(text)
        if region is None:
            if not text:
                reason = _("A region is required.")
            elif text in self.ambiguous:
                reason = _("Several regions have this name; give the region code.")
            else:
                reason = _("Unknown region: it must be a region code or name from the list of "
                           "regions.")
            problem(number, "region_code", text, reason)

        text = get("industry", "")
        industry = self.industries.get(text) or self.industries.get(text.upper())
        if industry is None:
            problem(number, "industry", text, _("Unknown industry: give a GB/T 4754 section "
                                                "letter A to T.") if text else
                    _("An industry is required."))

        legal = get("legal_representative", "")
        if len(legal) > 50:
            problem(number, "legal_representative", legal, _("At most %(n)d characters.", n=50))
        phone = get("contact_phone", "")
        if phone and (len(phone) > 30 or not _PHONE.fullmatch(phone)):
            problem(number, "contact_phone", phone, _("Not a telephone number."))

        text = get("employees", "")
        employees = None
        if text:
            if text.isdigit() and text.isascii() and int(text) < MAX_EMPLOYEES:
                employees = int(text)
            else:
                problem(number, "employees", text, _("Not a whole number of employees."))

        text = get("risk_grade", "")
        grade = self.grades.get(text) or self.grades.get(text.upper())
        if grade is None:
            problem(number, "risk_grade", text, _("Unknown risk grade: use A, B, C or D."))

        bools = _BOOLS
        flag1 = bools.get(get("flag_complaints", ""))
        flag2 = bools.get(get("flag_abnormal", ""))
        flag3 = bools.get(get("flag_serious_violation", ""))
        if flag1 is None or flag2 is None or flag3 is None:
            flags = []
            for key in FLAG_FIELDS:
                text = get(key, "")
                value = bools.get(text.lower())
                if value is None:
                    problem(number, key, text, _("Answer yes or no (是/否)."))
                flags.append(value)
            flag1, flag2, flag3 = flags

        text = get("status", "")
        status = self.statuses.get(text) or self.statuses.get(text.lower())
        if status is None:
            problem(number, "status", text, _("Unknown status."))

        notes = get("notes", "")
        if len(notes) > MAX_LENGTH["notes"]:
            problem(number, "notes", notes, _("At most %(n)d characters.", n=MAX_LENGTH["notes"]))

        if self.problem_count != before:
            self.rows_invalid += 1
            return None
        return (code, name, employer_type, address, region, industry, legal, phone, employees,
                grade, flag1, flag2, flag3, status, notes)

    def fast_row(self, number: int, cells: tuple | list) -> tuple | None | bool:
        """:meth:`row` for the 15 raw (not stripped) cells of a CSV row in :data:`COLUMNS`
        order: a row that is plainly valid is checked here with a few exact look-ups; any
        doubt goes to :meth:`row`, which says what is wrong. Returns the row tuple, None (the
        row has problems) or False (an empty row, or our template's hint row: skipped)."""
        if type(cells) is dict:
            return self.values_row(number, cells)
        (code, name, employer_type, address, region, industry, legal, phone, employees,
         grade, flag1, flag2, flag3, status, notes) = cells
        if fast_valid(code):  # so it has no blanks and is upper case
            name, address, legal = name.strip(), address.strip(), legal.strip()
            phone, notes = phone.strip(), notes.strip()
            if (name and len(name) <= 200 and len(address) <= 300 and len(legal) <= 50
                    and len(notes) <= 4000
                    and (not phone or (len(phone) <= 30 and _PHONE.fullmatch(phone)))):
                types, regions, industries, grades, statuses = self._fast_tables
                bools = _BOOLS
                count = _EMPLOYEES.get(employees, _MISSING)
                if count is _MISSING and employees.isdigit() and employees.isascii() \
                        and int(employees) < MAX_EMPLOYEES:
                    count = int(employees)
                try:
                    row = (code, name, types[employer_type], address, regions[region],
                           industries[industry], legal, phone, count, grades[grade],
                           bools[flag1], bools[flag2], bools[flag3], statuses[status], notes)
                except KeyError:
                    row = None
                if row is not None and count is not _MISSING and (
                        self.seen is None or self.seen.add_valid(code)):
                    self.rows_total += 1
                    return row
        values = {key: cell.strip() for key, cell in zip(_KEYS, cells)}
        return self.values_row(number, values)

    def values_row(self, number: int, values: dict[str, str]) -> tuple | None | bool:
        """:meth:`row` for cells as :func:`tabular.read_rows` would give them, skipping (False)
        the rows it skips: empty ones and our template's hint row."""
        if not any(values.values()):
            return False
        if number == 2 and all(values.get(k, "") == _HINTS.get(k, "") for k in values):
            return False
        return self.row(number, values)

    def fill(self, report: Report) -> Report:
        report.rows_total, report.rows_invalid = self.rows_total, self.rows_invalid
        report.problem_count, report.problems = self.problem_count, self.problems
        return report


# --- writing ------------------------------------------------------------------------------
_SELECT_COLS = ("id",) + ROW_FIELDS + ("version",)
_INSERT_COLS = ROW_FIELDS + ("version", "created_at", "updated_at", "import_id")


class _Writer:
    """Upserts batches of row tuples through the DB-API, inside the session's transaction."""

    def __init__(self, batch_id: int | None, actor: User | None, dry_run: bool = False):
        self.conn = db.session.connection()
        self.postgres = self.conn.dialect.name == "postgresql"
        self.mark = "%s" if self.postgres else "?"
        self.batch_id, self.dry_run = batch_id, dry_run
        self.actor_id = actor.id if actor else None
        self.actor_name = actor.username if actor else "system"
        now = utcnow()
        # SQLAlchemy stores SQLite datetimes as this text; PostgreSQL takes the object.
        self.now = now if self.postgres else now.strftime("%Y-%m-%d %H:%M:%S.%f")
        self.created = self.updated = self.unchanged = 0
        # An empty directory (the first import of a province): no code of the file can exist,
        # as the validator refuses a code seen twice in the file, and this transaction holds
        # the write lock (SQLite) or meets a concurrent import at the unique index and fails
        # whole (PostgreSQL). So no look-ups.
        self.insert_only = self.conn.exec_driver_sql(
            "SELECT 1 FROM employer LIMIT 1").first() is None
        m = self.mark
        self.sql_insert = (f"INSERT INTO employer ({', '.join(_INSERT_COLS)}) "
                           f"VALUES ({', '.join([m] * len(_INSERT_COLS))})")
        self.sql_update = ("UPDATE employer SET " + ", ".join(f"{f} = {m}" for f in FIELDS)
                           + f", version = version + 1, updated_at = {m} WHERE id = {m}")
        self.sql_change = ("INSERT INTO directory_change (subject_type, subject_id, at, actor_id,"
                           " actor_name, action, changes, reason, import_id) VALUES "
                           f"('employer', {m}, {m}, {m}, {m}, 'import', {m}, NULL, {m})")

    def _existing(self, codes: list[str]) -> dict[str, tuple]:
        cols = ", ".join(_SELECT_COLS)
        if self.postgres:
            result = self.conn.exec_driver_sql(
                f"SELECT {cols} FROM employer WHERE credit_code = ANY(%s)", (codes,))
        else:
            marks = ", ".join("?" * len(codes))
            result = self.conn.exec_driver_sql(
                f"SELECT {cols} FROM employer WHERE credit_code IN ({marks})", tuple(codes))
        return {r[1]: tuple(r) for r in result}

    def classify(self, rows: list[tuple]) -> tuple[list, list, list]:
        """Split a batch into new rows, updates (with their change rows); count unchanged."""
        if self.insert_only:
            self.created += len(rows)
            return rows, [], []
        existing = self._existing([r[0] for r in rows])
        new, updates, changes = [], [], []
        for row in rows:
            old = existing.get(row[0])
            if old is None:
                new.append(row)
                continue
            diff = {}
            for i, name in enumerate(FIELDS, start=1):
                before, after = old[i + 1], row[i]
                if before != after:
                    if name in FLAG_FIELDS:
                        if bool(before) == after:
                            continue
                        before = bool(before)
                    diff[name] = [before, after]
            if not diff:
                self.unchanged += 1
                continue
            updates.append(row[1:] + (self.now, old[0]))
            changes.append((old[0], self.now, self.actor_id, self.actor_name,
                            json.dumps(diff, ensure_ascii=False), self.batch_id))
        self.created += len(new)
        self.updated += len(updates)
        return new, updates, changes

    def flush(self, rows: list[tuple]) -> None:
        if not rows:
            return
        new, updates, changes = self.classify(rows)
        if self.dry_run:
            return
        if new:
            new.sort()  # neighbouring keys: fewer index pages touched
            tail = (1, self.now, self.now, self.batch_id)
            self.conn.exec_driver_sql(self.sql_insert, [row + tail for row in new])
        if updates:
            self.conn.exec_driver_sql(self.sql_update, updates)
            self.conn.exec_driver_sql(self.sql_change, changes)

    def finish(self) -> None:
        """Write what is still buffered (nothing here)."""

    def abort(self) -> None:
        """Give up (the caller rolls back)."""


class _CopyWriter(_Writer):
    """PostgreSQL: new rows go into ``employer`` through ONE long ``COPY`` that streams while
    the rows are being read and checked, so the server maintains the indexes in parallel
    with the Python work. Existing codes are looked up on a second connection (committed
    rows; a code seen twice in the file is caught by the validator). Updates are buffered and
    applied between pauses of the COPY, a batch at a time."""

    def __init__(self, batch_id: int | None, actor: User | None):
        super().__init__(batch_id, actor)
        self.reader = db.engine.connect()
        self.raw = self.conn.connection.driver_connection
        self.cursor = self.copy_cm = self.copy = None
        self.tail = (1, self.now, self.now, self.batch_id)
        self.updates: list[tuple] = []
        self.changes: list[tuple] = []

    def _existing(self, codes: list[str]) -> dict[str, tuple]:
        result = self.reader.exec_driver_sql(
            f"SELECT {', '.join(_SELECT_COLS)} FROM employer WHERE credit_code = ANY(%s)",
            (codes,))
        return {r[1]: tuple(r) for r in result}

    def _close_copy(self, error: BaseException | None = None) -> None:
        if self.copy is not None:
            cm, cursor = self.copy_cm, self.cursor
            self.cursor = self.copy_cm = self.copy = None
            try:
                cm.__exit__(type(error) if error else None, error, None)
            finally:
                cursor.close()

    def _apply_updates(self) -> None:
        if self.updates:
            self._close_copy()
            self.conn.exec_driver_sql(self.sql_update, self.updates)
            self.conn.exec_driver_sql(self.sql_change, self.changes)
            self.updates, self.changes = [], []

    def flush(self, rows: list[tuple]) -> None:
        if not rows:
            return
        new, updates, changes = self.classify(rows)
        if new:
            if self.copy is None:
                self.cursor = self.raw.cursor()
                self.copy_cm = self.cursor.copy(
                    f"COPY employer ({', '.join(_INSERT_COLS)}) FROM STDIN")
                self.copy = self.copy_cm.__enter__()
            write, tail = self.copy.write_row, self.tail
            for row in new:
                write(row + tail)
        self.updates.extend(updates)
        self.changes.extend(changes)
        if len(self.updates) >= BATCH_SIZE:
            self._apply_updates()

    def finish(self) -> None:
        try:
            self._apply_updates()
            self._close_copy()
        finally:
            self.reader.close()

    def abort(self) -> None:
        try:
            self._close_copy(RuntimeError("import abandoned"))
        except Exception:  # the COPY is being cancelled; the transaction rolls back anyway
            pass
        finally:
            self.reader.close()


# --- the two steps ------------------------------------------------------------------------
def _cells(stream: IO[bytes], filename: str):
    """``(row number, cells)``: for a CSV file with all the columns, the raw cells of a row in
    :data:`COLUMNS` order (for :meth:`Validator.fast_row`); otherwise ``{key: text}`` exactly
    as :func:`tabular.read_rows` gives it (a CSV row is never held as a dictionary unless it
    is short or goes to the full check)."""
    try:
        if not filename.lower().endswith(".csv"):
            yield from read_rows(stream, filename, COLUMNS)
            return
        rows = _csv_rows(stream)
        try:
            headers = next(rows)
        except StopIteration:
            raise TableError("the file is empty") from None
        index = _header_index([_cell(h) for h in headers], COLUMNS)
        pairs = sorted(index.items())
        position = {key: i for i, key in index.items()}
        if len(position) != len(COLUMNS):
            for number, row in enumerate(rows, start=2):
                size = len(row)
                yield number, {key: row[i].strip() for i, key in pairs if i < size}
            return
        order = [position[key] for key in _KEYS]
        need = max(order) + 1
        same = order == list(range(need))
        pick_cells = itemgetter(*order)
        for number, row in enumerate(rows, start=2):
            size = len(row)
            if size == need and same:
                yield number, row
            elif size >= need:
                yield number, pick_cells(row)
            else:
                yield number, {key: row[i].strip() for i, key in pairs if i < size}
    except TableError as exc:
        raise ValidationFailed(_("The file cannot be read: %(why)s", why=str(exc)),
                               {"file": [str(exc)]}) from None


def _run(stream: IO[bytes], filename: str, report: Report, writer: _Writer, lang: str,
         only_valid: bool, batch_size: int) -> Validator:
    validator = Validator(lang)
    check = validator.fast_row
    pending: list[tuple] = []
    append = pending.append
    writing = True
    flush = writer.flush
    for number, cells in _cells(stream, filename):
        row = check(number, cells)
        if row is None:
            if not only_valid and not writer.dry_run:
                writing = False  # the import will be refused: keep validating, stop writing
                pending = []
                append = pending.append
            continue
        if row is False:  # an empty row or the hint row
            continue
        if writing:
            append(row)
            if len(pending) >= batch_size:
                flush(pending)
                pending = []
                append = pending.append
    if writing:
        flush(pending)
    writer.finish()
    if validator.rows_total == 0:
        raise ValidationFailed(_("The file has no data rows."), {"file": [_("No data rows.")]})
    validator.fill(report)
    report.created, report.updated, report.unchanged = (writer.created, writer.updated,
                                                        writer.unchanged)
    return validator


def preview(stream: IO[bytes], filename: str, lang: str = "zh_CN", sha256: str = "",
            batch_size: int = BATCH_SIZE) -> Report:
    """Validate every row and count what an import would create, update or leave unchanged.
    Writes nothing."""
    report = Report(filename=filename, sha256=sha256)
    try:
        _run(stream, filename, report, _Writer(None, None, dry_run=True), lang, True,
             batch_size)
    finally:
        db.session.rollback()
    return report


def run_import(stream: IO[bytes], filename: str, *, actor: User | None, only_valid: bool = False,
               sha256: str = "", lang: str = "zh_CN", batch_size: int = BATCH_SIZE,
               commit: bool = True) -> Report:
    """Validate and upsert every row in one transaction (see the module docstring).

    Raises :class:`ImportRejected` (nothing written) when rows have problems and
    ``only_valid`` is false, :class:`ValidationFailed` when the file cannot be read."""
    report = Report(filename=filename, sha256=sha256, only_valid=only_valid)
    batch = ImportBatch(kind="employers", filename=filename[:255], sha256=sha256,
                        only_valid=only_valid, actor_id=actor.id if actor else None)
    try:
        db.session.add(batch)
        db.session.flush()
        report.batch_id = batch.id
        conn = db.session.connection()
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # a bigger page cache for the indexes while the batch runs
            old_cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql("PRAGMA cache_size = -131072")
        writer = (_CopyWriter(batch.id, actor) if conn.dialect.name == "postgresql"
                  else _Writer(batch.id, actor))
        try:
            _run(stream, filename, report, writer, lang, only_valid, batch_size)
        except BaseException:
            writer.abort()
            raise
        finally:
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA cache_size = {int(old_cache)}")
        if report.rows_invalid and not only_valid:
            raise ImportRejected(report)
        for name in ("rows_total", "rows_invalid", "created", "updated", "unchanged"):
            setattr(batch, name, getattr(report, name))
        audit.record("employer.import", "import_batch", batch.id, report.summary(), actor=actor)
        if commit:
            db.session.commit()
        else:
            db.session.flush()
    except BaseException:
        db.session.rollback()
        report.batch_id = None
        raise
    return report


# --- the template -------------------------------------------------------------------------
EXAMPLE_ROW = ("91370305MA3C4D5E6X", "淄博示例机械有限公司", "企业", "临淄区示例路1号", "370305001",
               "C", "张三", "0533-7000000", "25", "B", "否", "否", "否", "在营", "")


def template_xlsx(lang: str = "zh_CN") -> bytes:
    from ..tabular import write_xlsx
    return write_xlsx(COLUMNS, [], "employers", lang="zh" if is_zh(lang) else "en", hints=True)


def template_csv(lang: str = "zh_CN") -> bytes:
    import csv
    import io
    out = io.StringIO()
    writer = csv.writer(out)
    zh = is_zh(lang)
    writer.writerow([(c.zh if zh else c.en) + ("*" if c.required else "") for c in COLUMNS])
    writer.writerow([c.hint for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


# --- the file store: uploads kept between preview and confirmation -------------------------
# Uploads wait in the one content-addressed store (:mod:`inspection.core.storage`), area
# ``imports`` (shared with the inspectors import), named by their SHA-256; the store builds
# and checks every path and re-checks the hash when the file is read.
STORE_AREA = "imports"


def store_upload(stream: IO[bytes]) -> str:
    """Keep an upload in the file store under the SHA-256 of its content; return the hash."""
    return storage.put_stream(STORE_AREA, stream)


def kind_of(stream: IO[bytes]) -> str:
    """A file name with the right extension for :func:`read_rows` (XLSX files are zips).
    Peeks at the first bytes of a seekable binary stream and rewinds it."""
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    return "upload.xlsx" if head == b"PK\x03\x04" else "upload.csv"


def open_stored(sha256: str) -> tuple[IO[bytes], str]:
    """Open a stored upload after checking that its content still has this hash."""
    sha256 = (sha256 or "").strip().lower()
    if not _SHA256.fullmatch(sha256):
        raise NotFound(_("No such uploaded file."))
    if not storage.exists(STORE_AREA, sha256):
        raise NotFound(_("The uploaded file is no longer available; please upload it again."))
    try:
        stream = storage.open_checked(STORE_AREA, sha256)
    except storage.StoreError:
        raise NotFound(_("The uploaded file is damaged; please upload it again.")) from None
    try:
        return stream, kind_of(stream)
    except BaseException:
        stream.close()
        raise


def import_file(path: str | Path, *, actor: User | None = None, only_valid: bool = False,
                lang: str = "zh_CN") -> Report:
    """Import a file from disk (the CLI and the benchmark)."""
    path = Path(path)
    with path.open("rb") as f:
        digest = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
        f.seek(0)
        return run_import(f, path.name, actor=actor, only_valid=only_valid,
                          sha256=digest.hexdigest(), lang=lang)


__all__ = ["COLUMNS", "FIELDS", "ImportRejected", "Problem", "Report", "Validator", "fast_valid",
           "import_file", "open_stored", "preview", "run_import", "store_upload",
           "template_csv", "template_xlsx", "operator"]
