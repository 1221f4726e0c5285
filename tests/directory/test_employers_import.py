"""Import and export of the employers directory: preview with problems by row/column/reason,
all-or-nothing, only-valid, upsert with history, the web flow through the file store, the
CLI, the templates and the XLSX round trip."""
import io

import pytest
from employers_support import (bad_check_char, codes, csv_bytes, make_employer, regions, row,  # noqa: F401
                               upload)
from openpyxl import load_workbook
from sqlalchemy import func, select

from inspection.core import storage
from inspection.core.models import AuditEntry
from inspection.directory.employers import importer
from inspection.directory.models import DirectoryChange, Employer, ImportBatch
from inspection.extensions import db


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_preview_lists_problems_by_row_column_and_reason(app, regions, ctx):
    c = codes(4)
    data = csv_bytes(
        row(c[0]),
        row(bad_check_char(c[1])),                       # row 3: bad code
        row(c[2], region_code="火星街道", industry="Z"),  # row 4: two problems
        row(c[0], name="重复"),                           # row 5: duplicate in file
        row(c[3], name="", employees="十二", risk_grade="E", status="倒闭",
            flag_abnormal="也许", employer_type="工厂"),    # row 6: many
    )
    report = importer.preview(io.BytesIO(data), "x.csv")
    assert report.rows_total == 5 and report.rows_invalid == 4
    where = {(p.row, p.column) for p in report.problems}
    assert (3, "credit_code") in where
    assert {(4, "region_code"), (4, "industry")} <= where
    assert (5, "credit_code") in where
    assert {(6, "name"), (6, "employees"), (6, "risk_grade"), (6, "status"),
            (6, "flag_abnormal"), (6, "employer_type")} <= where
    reasons = {(p.row, p.column): p.reason for p in report.problems}
    assert "第18位校验码" in reasons[(3, "credit_code")]
    assert "文件前面" in reasons[(5, "credit_code")]  # the bureau's language: zh_CN
    assert "未知区域" in reasons[(4, "region_code")]
    assert report.created == 1  # what an import of the valid rows would do
    assert count(Employer) == 0 and count(ImportBatch) == 0


def test_a_file_with_problems_writes_nothing(app, regions, ctx):
    c = codes(6)
    data = csv_bytes(*(row(code) for code in c[:5]), row(c[5], region_code="nowhere"))
    with pytest.raises(importer.ImportRejected) as info:
        # batches of 2: two batches are written before the bad row is met, then rolled back
        importer.run_import(io.BytesIO(data), "x.csv", actor=None, batch_size=2)
    assert info.value.report.rows_invalid == 1
    assert info.value.report.problems[0].row == 7
    assert count(Employer) == 0 and count(ImportBatch) == 0 and count(DirectoryChange) == 0
    assert db.session.scalar(select(func.count(AuditEntry.seq))
                             .where(AuditEntry.action == "employer.import")) == 0


def test_only_valid_rows_are_imported_when_chosen(app, regions, ctx):
    c = codes(3)
    data = csv_bytes(row(c[0]), row(bad_check_char(c[1])), row(c[2], name="淄博第三家有限公司"))
    report = importer.run_import(io.BytesIO(data), "x.csv", actor=None, only_valid=True)
    assert (report.created, report.rows_invalid, report.rows_total) == (2, 1, 3)
    batch = db.session.get(ImportBatch, report.batch_id)
    assert (batch.created, batch.rows_invalid, batch.only_valid) == (2, 1, True)
    assert count(Employer) == 2
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "employer.import")).all()
    assert len(entries) == 1 and entries[0].summary["created"] == 2


def test_upsert_updates_by_code_with_history(app, regions, login_as):
    c = codes(3)
    with app.app_context():
        first = importer.run_import(io.BytesIO(csv_bytes(*(row(x) for x in c))), "a.csv",
                                    actor=None)
        assert first.created == 3
    data = csv_bytes(row(c[0]), row(c[1], risk_grade="D", flag_complaints="是"), row(c[2]),
                     row(codes(4)[3], name="淄博新来有限公司"))
    with app.app_context():
        second = importer.run_import(io.BytesIO(data), "b.csv", actor=None)
        assert (second.created, second.updated, second.unchanged) == (1, 1, 2)
        e = db.session.scalar(select(Employer).where(Employer.credit_code == c[1]))
        assert e.risk_grade == "D" and e.flag_complaints and e.version == 2
        assert e.import_id == first.batch_id  # the batch that created it, kept
        change = db.session.scalar(select(DirectoryChange).where(DirectoryChange.subject_id == e.id))
        assert change.action == "import" and change.import_id == second.batch_id
        assert change.changes == {"risk_grade": ["B", "D"], "flag_complaints": [False, True]}
        assert count(DirectoryChange) == 1
        eid, first_id = e.id, first.batch_id
    office = login_as("office")
    office.http.set_cookie("lang", "en")
    page = office.get(f"/employers/{eid}").get_data(as_text=True)
    assert f"import #{second.batch_id}" in page and "B → D" in page
    assert f"#{first_id}" in page and "a.csv" in page  # created by import #N


def test_web_flow_preview_then_confirm_by_hash(app, regions, login_as):
    c = login_as("office")
    cs = codes(2)
    data = csv_bytes(row(cs[0]), row(cs[1]))
    r = c.post_form("/employers/import", {"file": upload(data)})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    import hashlib
    sha = hashlib.sha256(data).hexdigest()
    assert sha in html
    with app.app_context():  # kept in the one file store, area "imports"
        stored = storage.path(importer.STORE_AREA, sha)
    assert stored.read_bytes() == data
    with app.app_context():
        assert count(Employer) == 0
    r = c.post_form("/employers/import/confirm", {"sha256": sha, "filename": "employers.csv"},
                    token_from="/employers/import")
    assert r.status_code == 302
    with app.app_context():
        assert count(Employer) == 2
        assert db.session.scalar(select(ImportBatch.sha256)) == sha


def test_web_confirm_refuses_unknown_or_bad_hashes(app, regions, login_as):
    c = login_as("office")
    for sha in ("0" * 64, "../../etc/passwd", "a" * 63):
        r = c.post_form("/employers/import/confirm", {"sha256": sha}, token_from="/employers/import")
        assert r.status_code == 302
    with app.app_context():
        assert count(ImportBatch) == 0


def test_web_confirm_refuses_a_stored_file_that_changed(app, regions, login_as):
    import hashlib
    c = login_as("office")
    data = csv_bytes(*(row(x, name="改动后的文件") for x in codes(2, seed=41)))  # a file of its own
    assert c.post_form("/employers/import", {"file": upload(data)}).status_code == 200
    sha = hashlib.sha256(data).hexdigest()
    with app.app_context():
        stored = storage.path(importer.STORE_AREA, sha)
    stored.write_bytes(data + b"\n")   # the bytes no longer have their name
    try:
        r = c.post_form("/employers/import/confirm", {"sha256": sha},
                        token_from="/employers/import")
        assert r.status_code == 302
        assert "上传的文件已损坏" in c.get(r.headers["Location"]).get_data(as_text=True)
        with app.app_context():
            assert count(ImportBatch) == 0 and count(Employer) == 0
    finally:
        stored.unlink()


def test_web_flow_with_problems_offers_only_valid(app, regions, login_as):
    c = login_as("office")
    cs = codes(2)
    data = csv_bytes(row(cs[0]), row(bad_check_char(cs[1])))
    html = c.post_form("/employers/import", {"file": upload(data)}).get_data(as_text=True)
    assert "only_valid" in html and "第18位校验码" in html and "<td>3</td>" in html
    import hashlib
    sha = hashlib.sha256(data).hexdigest()
    r = c.post_form("/employers/import/confirm", {"sha256": sha}, token_from="/employers/import")
    assert r.status_code == 422
    with app.app_context():
        assert count(Employer) == 0
    r = c.post_form("/employers/import/confirm", {"sha256": sha, "only_valid": "y"},
                    token_from="/employers/import")
    assert r.status_code == 302
    with app.app_context():
        assert count(Employer) == 1


def test_unreadable_files_are_refused(app, regions, login_as):
    c = login_as("office")
    r = c.post_form("/employers/import", {"file": upload(b"just,some\nwords,here\n")})
    assert r.status_code == 422  # missing required columns
    r = c.post_form("/employers/import", {"file": upload(b"PK\x03\x04garbage", "x.xlsx")})
    assert r.status_code == 422


def test_cli_exit_codes_and_output(app, regions, tmp_path):
    runner = app.test_cli_runner()
    cs = codes(3)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(row(cs[0]), row(bad_check_char(cs[1])), row(cs[2], industry="Z")))
    result = runner.invoke(args=["employers", "import", str(bad)])
    assert result.exit_code == 1
    assert "row 3" in result.output and "row 4" in result.output and "industry" in result.output
    with app.app_context():
        assert count(Employer) == 0
    result = runner.invoke(args=["employers", "import", str(bad), "--only-valid"])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output and "row 3" in result.output
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(row(cs[0]), row(cs[2])))
    result = runner.invoke(args=["employers", "import", str(good)])
    assert result.exit_code == 0 and "1 created" in result.output and "1 unchanged" in result.output
    result = runner.invoke(args=["employers", "import", str(tmp_path / "missing.csv")])
    assert result.exit_code != 0
    out = tmp_path / "all.xlsx"
    assert runner.invoke(args=["employers", "export", str(out)]).exit_code == 0
    rows = list(load_workbook(out, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 3 and rows[0][0] == "统一社会信用代码"
    t = tmp_path / "t.xlsx"
    assert runner.invoke(args=["employers", "template", str(t)]).exit_code == 0
    assert t.stat().st_size > 0


def test_templates_have_chinese_headers_and_hints(app, regions, login_as):
    c = login_as("office")
    r = c.get("/employers/import/template.xlsx")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "统一社会信用代码*" and rows[1][0].startswith("18位")
    r = c.get("/employers/import/template.csv")
    assert r.data.decode("utf-8-sig").startswith("统一社会信用代码*,单位名称*")
    # the empty template imports as "no data rows", not as a problem on the hint row
    with app.app_context():
        with pytest.raises(importer.ValidationFailed):
            importer.preview(io.BytesIO(r.data), "t.csv")


def test_xlsx_round_trip_changes_nothing(app, regions, login_as, make_user):
    cs = codes(5)
    for i, code in enumerate(cs):
        make_employer(app, code, name=f"淄博往返{i}有限公司", risk_grade="ABCD"[i % 4],
                      flag_serious_violation=(i == 2), status="moved_away" if i == 4 else "active",
                      employees=None if i == 1 else i * 10, notes="备注, 含逗号" if i == 3 else "",
                      employer_type="job_agency" if i == 0 else "enterprise")
    with app.test_request_context():
        from inspection.directory.employers import operations as ops
        from inspection.core.models import User
        admin = db.session.get(User, make_user("boss", "admin"))
        ops.create_employer({"credit_code": "3703051234567X", "name": "旧代码单位", "employer_type": "enterprise",
                             "region_code": "370305003", "industry": "F"}, actor=admin,
                            override_reason="旧代码")
    c = login_as("office")
    r = _export(app, c)
    assert r.status_code == 200 and r.data[:2] == b"PK"
    report_html = c.post_form("/employers/import", {"file": upload(r.data, "export.xlsx")})
    html = report_html.get_data(as_text=True)
    assert report_html.status_code == 200
    with app.app_context():
        report = importer.run_import(io.BytesIO(r.data), "export.xlsx", actor=None)
        assert (report.created, report.updated, report.unchanged, report.rows_invalid) == (0, 0, 6, 0)
    assert "badge ok" in html


def _export(app, client, **filters):
    """The export button: a job (docs/jobs.md), run here in-process, then its file."""
    from inspection.jobs.operations import run_pending

    r = client.post_form("/employers/export.xlsx", filters, token_from="/employers/")
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    with app.test_request_context():
        assert run_pending() == 1
    return client.get(r.headers["Location"] + "/download")


def test_export_follows_the_filter(app, regions, login_as):
    cs = codes(3)
    for i, code in enumerate(cs):
        make_employer(app, code, risk_grade="D" if i == 0 else "A")
    r = _export(app, login_as("supervisor"), risk_grade="D")
    rows = list(load_workbook(io.BytesIO(r.data), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == cs[0]
