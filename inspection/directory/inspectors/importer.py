"""Import and export of the inspectors directory (CSV and XLSX).

The office downloads a template, fills it in, uploads it and sees a preview listing every
problem by row, column and reason; confirming imports the file in one transaction. The upsert
key is the certificate number. Nothing is written when the file has problems, unless the
office chose "only valid rows". The uploaded file waits in the file store between preview and
confirmation, named by its SHA-256, so that what is confirmed is exactly what was previewed.

An empty optional cell keeps the stored value of an existing inspector (and takes the default
for a new one): a partial sheet never wipes data by accident.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from flask_babel import gettext as _

from ...core import audit, storage
from ...core.errors import ValidationFailed
from ...core.models import User, utcnow
from ...extensions import db
from .. import history
from ..models import ImportBatch, Inspector
from ..tabular import Column, TableError, read_rows, write_xlsx
from . import labels
from . import operations as ops

KIND = "inspectors"

COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "Name", required=True),
    Column("department", "部门", "Department", required=True, hint="部门名称或代码，如 劳动保障监察"),
    Column("cert_kind", "证件类型", "Certificate kind", required=True,
           hint="行政执法证 / 劳动保障监察员证"),
    Column("cert_number", "证件编号", "Certificate number", required=True,
           hint="唯一；按此编号更新已有人员"),
    Column("cert_expires", "有效期至", "Valid until", required=True, hint="YYYY-MM-DD"),
    Column("status", "状态", "Status", hint="在岗 / 休假 / 调离 / 退休（空 = 在岗）"),
    Column("pool", "人员类别", "Pool", hint="执法人员 / 专家 / 第三方（空 = 执法人员）"),
    Column("tags", "专长", "Specialities", hint="逗号分隔，如 工资支付,社会保险"),
    Column("qualifications", "资格", "Qualifications"),
    Column("home_region", "所在街道乡镇", "Home region", hint="区划代码或名称"),
    Column("phone", "电话", "Phone"),
    Column("username", "关联账号", "Linked account", hint="系统用户名，可空"),
    Column("notes", "备注", "Notes"),
)
LABELS = {c.key: c.zh for c in COLUMNS}
_SHA = re.compile(r"^[0-9a-f]{64}$")
_EXTENSIONS = ("csv", "xlsx")


@dataclass(frozen=True)
class Problem:
    """One problem of one cell: row as Excel numbers it (header = 1), column key, reason."""

    row: int
    column: str
    code: str
    message: str

    @property
    def column_label(self) -> str:
        return LABELS.get(self.column, self.column)

    def __str__(self) -> str:
        return f"row {self.row}, {self.column_label} ({self.column}): {self.message} [{self.code}]"


@dataclass
class Preview:
    """What importing a file would do."""

    filename: str
    sha256: str
    rows_total: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: (row number, values for :func:`ops.clean`, existing inspector or None, model values)
    valid: list[tuple[int, dict[str, str], Inspector | None, dict[str, Any]]] = \
        field(default_factory=list)
    creates: int = 0
    updates: int = 0
    unchanged: int = 0

    @property
    def invalid_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    @property
    def ok(self) -> bool:
        return not self.problems


# --- the file store -------------------------------------------------------------------------
# Uploads wait in the one content-addressed store (:mod:`inspection.core.storage`), area
# ``imports``, named by their SHA-256; the store checks paths and hashes.

STORE_AREA = "imports"


def _extension(filename: str) -> str:
    ext = Path(filename or "").suffix.lower().lstrip(".")
    if ext not in _EXTENSIONS:
        raise ValidationFailed(_("Only .csv and .xlsx files can be imported."),
                               {"file": [_("Only .csv and .xlsx files can be imported.")]})
    return ext


def store_upload(data: bytes, filename: str) -> str:
    """Keep an uploaded file for the confirmation step; returns its SHA-256."""
    _extension(filename)
    if not data:
        raise ValidationFailed(_("The file is empty."), {"file": [_("The file is empty.")]})
    return storage.put(STORE_AREA, data)


def load_upload(sha256: str, filename: str) -> bytes:
    """The bytes of an upload kept by :func:`store_upload`, checked against their hash."""
    _extension(filename)
    if not _SHA.match(sha256 or ""):
        raise ValidationFailed(_("Unknown upload."), {"file": [_("Unknown upload.")]})
    try:
        return storage.read(STORE_AREA, sha256)
    except storage.StoreError:
        raise ValidationFailed(_("The uploaded file is no longer available; upload it again."),
                               {"file": [_("Upload the file again.")]}) from None


# --- checking -------------------------------------------------------------------------------

def preview(data: bytes, filename: str) -> Preview:
    """Check every row of a file against the directory without writing anything."""
    result = Preview(filename=filename, sha256=hashlib.sha256(data).hexdigest())
    try:
        rows = list(read_rows(io.BytesIO(data), filename, COLUMNS))
    except TableError as error:
        raise ValidationFailed(_("The file cannot be read: %(why)s", why=str(error)),
                               {"file": [str(error)]}) from None
    departments: dict[str, Any] = {}      # cell text -> Department (or None), looked up once
    first_row_of_cert: dict[str, int] = {}
    first_row_of_user: dict[str, int] = {}
    existing = _existing({re.sub(r"\s+", "", v.get("cert_number", "")).upper()
                          for _n, v in rows})
    for number, values in rows:
        result.rows_total += 1
        cert = re.sub(r"\s+", "", values.get("cert_number", "")).upper()
        current = existing.get(cert)
        given = {k: v for k, v in values.items() if v != "" or k in ("name", "department",
                                                                     "cert_kind", "cert_number",
                                                                     "cert_expires")}
        if given.get("department") in departments:
            given["department"] = departments[given["department"]] or given["department"]
        elif given.get("department"):
            departments[given["department"]] = ops._department(given["department"])
            given["department"] = departments[given["department"]] or given["department"]
        cleaned, errors = ops.clean(given, current=current, cert_owner_known=True)
        problems = [Problem(number, col, getattr(msg, "code", "invalid"), str(msg))
                    for col, messages in errors.items() for msg in messages]
        if cert:
            if cert in first_row_of_cert:
                problems.append(Problem(number, "cert_number", "duplicate_in_file",
                                        _("The same certificate number is in row %(row)d.",
                                          row=first_row_of_cert[cert])))
            else:
                first_row_of_cert[cert] = number
        username = values.get("username", "").strip().lower()
        if username:
            if username in first_row_of_user:
                problems.append(Problem(number, "username", "duplicate_in_file",
                                        _("The same account is linked in row %(row)d.",
                                          row=first_row_of_user[username])))
            else:
                first_row_of_user[username] = number
        if problems:
            result.problems.extend(problems)
            continue
        result.valid.append((number, given, current, cleaned))
        if current is None:
            result.creates += 1
        elif any(getattr(current, k) != v for k, v in cleaned.items()):
            result.updates += 1
        else:
            result.unchanged += 1
    return result


def _existing(cert_numbers: Iterable[str]) -> dict[str, Inspector]:
    from sqlalchemy import select

    numbers = [c for c in cert_numbers if c]
    found: dict[str, Inspector] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        for inspector in db.session.scalars(select(Inspector).where(
                Inspector.cert_number.in_(chunk))):
            found[inspector.cert_number] = inspector
    return found


# --- importing ------------------------------------------------------------------------------

def run_import(data: bytes, filename: str, only_valid: bool = False,
               actor: User | None = None) -> tuple[ImportBatch, Preview]:
    """Import a file in one transaction. With problems and not ``only_valid``, nothing is
    written and :class:`ValidationFailed` carries the problems (``fields['rows']``)."""
    result = preview(data, filename)
    if result.problems and not only_valid:
        raise ValidationFailed(
            _("%(n)d problems in %(rows)d rows: nothing was imported.",
              n=len(result.problems), rows=len(result.invalid_rows)),
            {"rows": [str(p) for p in result.problems[:200]]})
    batch = ImportBatch(kind=KIND, filename=Path(filename).name[:255], sha256=result.sha256,
                        only_valid=only_valid, rows_total=result.rows_total,
                        rows_invalid=len(result.invalid_rows), actor_id=actor.id if actor else None,
                        at=utcnow())
    db.session.add(batch)
    db.session.flush()
    created = updated = unchanged = 0
    for _number, _given, current, cleaned in result.valid:
        if current is None:
            inspector = ops._new(cleaned)
            history.record_change(ops.SUBJECT, inspector.id, "import",
                                  ops._creation_changes(inspector), actor=actor,
                                  import_id=batch.id)
            created += 1
        else:
            changes = ops._apply(current, cleaned)
            if changes:
                history.record_change(ops.SUBJECT, current.id, "import", changes, actor=actor,
                                      import_id=batch.id)
                updated += 1
            else:
                unchanged += 1
    batch.created, batch.updated, batch.unchanged = created, updated, unchanged
    audit.record("inspector.import", "import_batch", batch.id,
                 {"kind": KIND, "filename": batch.filename, "sha256": batch.sha256,
                  "only_valid": only_valid, "rows": result.rows_total,
                  "invalid_rows": batch.rows_invalid, "created": created, "updated": updated,
                  "unchanged": unchanged}, actor=actor)
    db.session.commit()
    return batch, result


def import_stored(sha256: str, filename: str, only_valid: bool = False,
                  actor: User | None = None) -> tuple[ImportBatch, Preview]:
    """Import a file kept by :func:`store_upload` (the confirmation step)."""
    return run_import(load_upload(sha256, filename), filename, only_valid, actor)


# --- templates and export -------------------------------------------------------------------

_EXAMPLE = ["张三", "劳动保障监察", "劳动保障监察员证", "LS3703050001", "2027-12-31", "在岗",
            "执法人员", "工资支付,社会保险", "劳动保障监察员资格", "", "", "", ""]


def template_xlsx() -> bytes:
    """An empty sheet with Chinese headers (required ones starred) and a row of hints."""
    return write_xlsx(COLUMNS, [], "执法检查人员", hints=True)


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.zh + ("*" if c.required else "") for c in COLUMNS])
    writer.writerow([c.hint for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def export_row(inspector: Inspector) -> list[Any]:
    return [
        inspector.name,
        inspector.department.name,
        labels.name(labels.CERT_KINDS, inspector.cert_kind),
        inspector.cert_number,
        inspector.cert_expires.isoformat(),
        labels.name(labels.STATUSES, inspector.status),
        labels.name(labels.POOLS, inspector.pool),
        ",".join(labels.name(labels.SUGGESTED_TAGS, t) for t in inspector.tags or []),
        inspector.qualifications,
        inspector.home_region_code or "",
        inspector.phone,
        inspector.user.username if inspector.user else "",
        inspector.notes,
    ]


def export_xlsx(query) -> bytes:
    """The inspectors of ``query`` (a select of :class:`Inspector`) in the template's layout,
    so that an export can be edited and imported back."""
    def rows():
        for inspector in db.session.scalars(query.execution_options(yield_per=500)):
            yield export_row(inspector)
    return write_xlsx(COLUMNS, rows(), "执法检查人员")
