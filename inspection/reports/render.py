"""The summary reports rendered: PDF (WeasyPrint with the Noto CJK fonts, through the record
documents' renderer :func:`inspection.fieldwork.documents.render_pdf`) and XLSX (openpyxl, one
sheet per section). Both are written in the documents' language (zh_CN)."""
from __future__ import annotations

import io
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from ..fieldwork.documents import DOCUMENT_LOCALE, render_pdf
from .data import section_labels
from openpyxl.styles import Font
from openpyxl import Workbook

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"pdf": PDF, "xlsx": XLSX}


def task_pdf(data: dict[str, Any]) -> bytes:
    return render_pdf("reports/task_report.html", {"r": data})


def year_pdf(data: dict[str, Any]) -> bytes:
    return render_pdf("reports/year_report.html", {"r": data})


# --- XLSX -------------------------------------------------------------------------------------

def _sheet(book, title: str, header: list[str], rows: list[list[Any]]) -> None:

    sheet = book.create_sheet(title=title[:31])
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(["" if v is None else v for v in row])
    sheet.freeze_panes = "A2"
    for n, name in enumerate(header, start=1):
        width = max([len(str(name))] + [len(str(r[n - 1])) for r in rows if len(r) >= n] + [6])
        sheet.column_dimensions[sheet.cell(row=1, column=n).column_letter].width = min(
            60, width * 1.6 + 2)


def _common_sheets(book, r: dict[str, Any], labels: dict[str, str]) -> None:
    _sheet(book, labels["draws"],
           [_("Draw"), _("Task"), _("Type"), _("Status"), _("Executed"),
            _("Commitment SHA-256"), _("Log index (commitment)"), _("Log index (result)"),
            _("Pools")],
           [[d["public_id"], d["task_id"], d["kind"], d["status"], d["executed_at"],
             d["commitment_sha256"], d["log_commitment"], d["log_result"],
             "; ".join(f"{p['name']} {p['count']}/{p['size']} {p['sha256']}"
                       for p in d["pools"])] for d in r["draws"]])
    _sheet(book, labels["results"], [_("Inspection result"), _("Code"), _("Visits")],
           [[c["label"], c["code"], c["count"]] for c in r["categories"]]
           + [[_("Withheld from publication"), "withheld", r["totals"]["withheld"]],
              [_("Visits"), "total", r["totals"]["visits"]]])
    _sheet(book, labels["items"],
           [_("Code"), _("Check item"), _("Visits checked"), _("Visits with problems"),
            _("Problems")],
           [[i["code"], i["name"], i["visits"], i["with_problems"], i["problems"]]
            for i in r["items"]])
    _sheet(book, labels["problems"],
           [_("Visit no."), _("Employer"), _("Item"), _("Question"), _("Finding"), _("Handling"),
            _("Due"), _("Note")],
           [[p["visit"], p["employer"], p["item"], p["question"], p["finding"],
             p["handling_label"], p["due"], p["note"]] for p in r["problems"]]
           + [[d.get("visit", ""), "", "", "", d.get("summary", ""),
               d.get("kind_label", d.get("kind", "")), d.get("due", ""),
               d.get("outcome", "")] for d in r["handling_decisions"]])
    _sheet(book, labels["timeliness"],
           [_("Deadline"), _("On time"), _("Late"), _("Not yet done"), _("Not counted")],
           [[t["label"], t["on_time"], t["late"], t["open"], t["unknown"]]
            for t in r["timeliness"]])
    _sheet(book, _("Visits"),
           [_("Visit no."), _("Employer"), _("Credit code"), _("Date of the check"), _("Inspection result"),
            _("Status"), _("Published")],
           [[v["number"], v["employer"], v["credit_code"], v["check_day"],
             v["category_label"], v["status_label"], v["published_on"]] for v in r["visits"]])


def _save(book) -> bytes:
    # Fixed document properties: the same figures give the same bytes' content.
    book.properties.creator = "inspection"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def task_xlsx(r: dict[str, Any]) -> bytes:

    with force_locale(DOCUMENT_LOCALE):
        labels = section_labels()
        book = Workbook()
        book.remove(book.active)
        s = r["scope"]
        _sheet(book, labels["scope"], [_("Field"), _("Value")], [
            [_("Task"), s["name"]], [_("Annual plan"), s["plan"]],
            [_("Lead department"), s["lead_department"]],
            [_("Departments"), "、".join(s["departments"])], [_("Type"), s["type"]],
            [_("Method"), s["method"]],
            [_("Window"), f"{s['window_start']} – {s['window_end']}"],
            [_("End of the check"), r["check_end"]], [_("Closed"), r["closed_at"]],
            *[[_("Filters") + " · " + f["key"], "、".join(f["values"])] for f in s["filters"]],
            *[[_("Check item") + f" {i['code']}", f"{i['name']} v{i['version']}"]
              for i in s["items"]],
            *[[_("Ratio of grade %(grade)s", grade=g), v] for g, v in s["ratios"].items()],
        ])
        _sheet(book, labels["teams"],
               [_("Visit no."), _("Inspector"), _("Leader"), _("Replaced")],
               [[t["number"], m["name"], "✓" if m["leader"] else "",
                 "✓" if m["replaced"] else ""] for t in r["teams"]["visits"]
                for m in t["members"]])
        _sheet(book, _("Substitutions"),
               [_("Visit no."), _("Member"), _("Replacement"), _("Reason"), _("Status"),
                _("Decided")],
               [[s["visit"], s["member"], s["replacement"], s["reason"], s["status"],
                 s["decided_at"]] for s in r["teams"]["substitutions"]])
        _common_sheets(book, r, labels)
        return _save(book)


def year_xlsx(r: dict[str, Any]) -> bytes:

    with force_locale(DOCUMENT_LOCALE):
        labels = section_labels()
        book = Workbook()
        book.remove(book.active)
        _sheet(book, _("Tasks"),
               [_("Task"), _("Lead department"), _("Status"), _("Window"), _("Visits"),
                _("Done"), _("Closed")],
               [[t["name"], t["department"], t["status"], t["window"], t["visits"],
                 t["done"], t["closed_at"]] for t in r["tasks"]])
        _common_sheets(book, r, labels)
        return _save(book)
