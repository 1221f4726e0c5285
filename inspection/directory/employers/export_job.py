"""The employers' XLSX export as a job (docs/jobs.md): 10^6 employers take minutes, past any
web request's time limit, so the export button submits an ``employers_xlsx`` job with the
list's filters and the user watches its progress and downloads the file when it is done.

The handler streams the rows (:func:`.operations.export_rows`, ``yield_per``) into an
openpyxl write-only workbook in the job's scratch folder, then puts the file in the store
(atomic): a worker killed in the middle leaves no file, and the job runs again from the start.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ...core import storage
from ...core.models import Role, utcnow
from ...core.timeutil import to_local
from ...extensions import db
from ...jobs.operations import work_dir
from ...jobs.registry import JobFile, Kind, Progress, register
from ..models import Employer
from ..tabular import save_xlsx
from . import importer
from . import operations as ops
from .labels import is_zh

KIND = "employers_xlsx"
AREA = "exports"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Progress is reported every this many rows (the queue writes it at most twice a second).
EVERY = 2000


def count(filters: ops.Filters) -> int:
    return db.session.scalar(select(func.count(Employer.id)).where(*filters.conditions())) or 0


def _export(params: dict[str, Any], progress: Progress) -> JobFile:
    filters = ops.Filters.from_args(params)  # the list's filter args, flat
    lang = params.get("lang") or "zh_CN"
    total = count(filters)
    progress(0, total, "")

    def rows():
        done = 0
        for done, row in enumerate(ops.export_rows(filters, lang), start=1):
            if done % EVERY == 0:
                progress(done, total)
            yield row
        progress(done, max(total, done), str(_l("Writing the file")))

    path = work_dir() / "employers.xlsx"
    save_xlsx(path, importer.COLUMNS, rows(), "employers", lang="zh" if is_zh(lang) else "en")
    with path.open("rb") as stream:
        sha = storage.put_stream(AREA, stream)
    day = to_local(utcnow()).strftime("%Y%m%d-%H%M")
    return JobFile(AREA, sha, f"employers-{day}.xlsx", XLSX)


register(Kind(KIND, lambda: str(_l("Employers directory export (XLSX)")), _export,
              roles=(Role.ADMIN.value, Role.OFFICE.value, Role.APPROVER.value,
                     Role.SUPERVISOR.value)))
