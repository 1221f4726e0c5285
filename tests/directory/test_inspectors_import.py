"""Import and export of the inspectors directory: templates, preview with problems by row,
column and reason, all-or-nothing, only-valid, upsert, the file store, CLI and XLSX round trip."""
import csv
import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from inspection.core.errors import ValidationFailed
from inspection.core.models import AuditEntry
from inspection.directory.inspectors import importer
from inspection.directory.inspectors import operations as ops
from inspection.directory.models import DirectoryChange, ImportBatch, Inspector, Region
from inspection.extensions import db

HEADER = ["姓名", "部门", "证件类型", "证件编号", "有效期至", "状态", "人员类别", "专长", "关联账号"]


def csv_bytes(rows, header=HEADER):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(rows, header=HEADER):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD = [
    ["王建华", "劳动保障监察", "劳动保障监察员证", "LJ001", "2030-01-31", "在岗", "执法人员",
     "工资支付,社会保险", ""],
    ["李秀英", "LSJC", "行政执法证", "ZF002", "2029/06/30", "休假", "专家", "职业安全", ""],
]
BAD = [
    ["", "劳动保障监察", "劳动保障监察员证", "LJ101", "2030-01-31", "", "", "", ""],      # 2: name
    ["赵一", "外星部", "劳动保障监察员证", "LJ102", "2030-01-31", "", "", "", ""],        # 3: dept
    ["赵二", "LSJC", "驾驶证", "LJ103", "2030-01-31", "", "", "", ""],                    # 4: kind
    ["赵三", "LSJC", "行政执法证", "LJ104", "明年", "", "", "", ""],                      # 5: date
    ["赵四", "LSJC", "行政执法证", "LJ105", "2030-01-31", "睡觉", "志愿者", "", ""],        # 6
    ["赵五", "LSJC", "行政执法证", "LJ106", "2030-01-31", "", "", "", "nobody"],          # 7
    ["赵六", "LSJC", "行政执法证", "LJ106", "2030-01-31", "", "", "", ""],                # 8: dup
    ["赵七", "LSJC", "行政执法证", "LJ108", "2030-01-31", "", "", "", ""],                # 9: ok
]
EXPECTED = {(2, "name", "required"), (3, "department", "unknown_department"),
            (4, "cert_kind", "unknown_cert_kind"), (5, "cert_expires", "bad_date"),
            (6, "status", "unknown_status"), (6, "pool", "unknown_pool"),
            (7, "username", "unknown_username"), (8, "cert_number", "duplicate_in_file")}


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


# ----------------------------------------------------------------------------- templates
def test_templates_have_chinese_headers_and_a_hint_row(login_as, app):
    c = login_as("office")
    response = c.get("/inspectors/template.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("姓名*", "部门*", "证件类型*", "证件编号*", "有效期至*")
    assert "YYYY-MM-DD" in rows[1]
    text = c.get("/inspectors/template.csv").data.decode("utf-8-sig")
    header, hints = list(csv.reader(io.StringIO(text)))
    assert header[0] == "姓名*" and "行政执法证 / 劳动保障监察员证" in hints
    with app.app_context():
        for data, name in ((response.data, "t.xlsx"), (text.encode("utf-8"), "t.csv")):
            result = importer.preview(data, name)
            assert result.rows_total == 0 and result.ok
    assert c.get("/inspectors/template.pdf").status_code == 404


# ----------------------------------------------------------------------------- checking
def test_preview_lists_problems_by_row_column_reason(ctx, department, make_user):
    result = importer.preview(csv_bytes(BAD), "people.csv")
    assert {(p.row, p.column, p.code) for p in result.problems} == EXPECTED
    assert result.rows_total == 8 and result.creates == 1
    assert result.invalid_rows == [2, 3, 4, 5, 6, 7, 8]
    assert "row 3" in str(result.problems[1]) and "部门" in str(result.problems[1])
    assert count(Inspector) == 0


def test_unreadable_files_are_refused(ctx, department):
    with pytest.raises(ValidationFailed):
        importer.preview(b"not a zip", "people.xlsx")
    with pytest.raises(ValidationFailed) as excinfo:
        importer.preview(csv_bytes([["x"]], header=["姓名"]), "people.csv")
    assert "部门" in excinfo.value.message                    # the missing required columns
    with pytest.raises(ValidationFailed):
        importer.store_upload(b"data", "people.exe")


def test_all_or_nothing_then_only_valid(ctx, department):
    data = csv_bytes(BAD + GOOD)
    with pytest.raises(ValidationFailed) as excinfo:
        importer.run_import(data, "people.csv")
    assert any("row 8" in line for line in excinfo.value.fields["rows"])
    assert count(Inspector) == 0 and count(ImportBatch) == 0 and count(DirectoryChange) == 0

    batch, result = importer.run_import(data, "people.csv", only_valid=True)
    assert (batch.created, batch.updated, batch.rows_invalid, batch.rows_total) == (3, 0, 7, 10)
    assert batch.kind == "inspectors" and batch.only_valid
    assert batch.sha256 == hashlib.sha256(data).hexdigest()
    names = set(db.session.scalars(select(Inspector.name)))
    assert names == {"赵七", "王建华", "李秀英"}
    li = db.session.scalar(select(Inspector).where(Inspector.name == "李秀英"))
    assert (li.cert_kind, li.status, li.pool, li.tags) == ("law_enforcement", "on_leave",
                                                           "expert", ["occupational_safety"])
    assert li.cert_expires.isoformat() == "2029-06-30"
    changes = db.session.scalars(select(DirectoryChange)).all()
    assert len(changes) == 3 and {c.import_id for c in changes} == {batch.id}
    assert {c.action for c in changes} == {"import"}
    audits = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "inspector.import")).all()
    assert len(audits) == 1 and audits[0].summary["created"] == 3


def test_upsert_by_certificate_number(ctx, department, make_user):
    make_user("wjh", "inspector")
    importer.run_import(csv_bytes(GOOD), "a.csv")
    changed = [list(GOOD[0]), list(GOOD[1])]
    changed[0][5] = "调离"
    changed[0][8] = "wjh"
    changed[1][7] = ""           # an empty optional cell keeps the stored tags
    batch, _ = importer.run_import(xlsx_bytes(changed), "b.xlsx")
    assert (batch.created, batch.updated, batch.unchanged) == (0, 1, 1)
    wang = db.session.scalar(select(Inspector).where(Inspector.cert_number == "LJ001"))
    assert wang.status == "transferred" and wang.user.username == "wjh" and wang.version == 2
    li = db.session.scalar(select(Inspector).where(Inspector.cert_number == "ZF002"))
    assert li.tags == ["occupational_safety"] and li.version == 1
    update = db.session.scalar(select(DirectoryChange).where(
        DirectoryChange.subject_id == wang.id, DirectoryChange.import_id == batch.id))
    assert update.changes == {"status": ["available", "transferred"],
                              "username": [None, "wjh"]}
    # the account is now taken: another row linking it is a problem
    third = [["新人", "LSJC", "行政执法证", "ZF009", "2030-01-01", "", "", "", "wjh"]]
    problems = importer.preview(csv_bytes(third), "c.csv").problems
    assert [(p.row, p.column, p.code) for p in problems] == [(2, "username", "username_taken")]


# ----------------------------------------------------------------------------- web flow
def test_upload_preview_confirm_through_pages(app, login_as, department):
    c = login_as("office")
    data = csv_bytes(BAD + GOOD)
    page = c.post_form("/inspectors/import", {"file": (io.BytesIO(data), "人员.csv")},
                       content_type="multipart/form-data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for row, column, code in EXPECTED:
        assert f'data-row="{row}" data-column="{column}" data-code="{code}"' in html
    sha = hashlib.sha256(data).hexdigest()
    assert f'value="{sha}"' in html
    stored = Path(app.config["SETTINGS"].FILE_STORE) / "imports" / sha[:2] / sha
    assert stored.read_bytes() == data
    with app.app_context():
        assert count(Inspector) == 0

    refused = c.post_form("/inspectors/import/confirm", {"sha256": sha, "filename": "人员.csv"},
                          token_from="/inspectors/import")
    assert refused.status_code == 422
    with app.app_context():
        assert count(Inspector) == 0
    done = c.post_form("/inspectors/import/confirm",
                       {"sha256": sha, "filename": "人员.csv", "only_valid": "y"},
                       token_from="/inspectors/import")
    assert done.status_code == 302
    with app.app_context():
        assert count(Inspector) == 3
        batch = db.session.scalar(select(ImportBatch))
        assert batch.actor.username == "u_office" and batch.filename == "人员.csv"
        assert {c.actor_name for c in db.session.scalars(select(DirectoryChange))} == \
            {"u_office"}
    assert "人员.csv" in c.get("/inspectors/import").get_data(as_text=True)


def test_confirm_only_accepts_a_stored_sha256(app, login_as, department):
    c = login_as("office")
    for sha, name in (("../../../etc/passwd", "x.csv"), ("a" * 64, "x.csv"),
                      ("a" * 64, "../x.csv"), ("a" * 64, "x.sh")):
        response = c.post_form("/inspectors/import/confirm", {"sha256": sha, "filename": name},
                               token_from="/inspectors/import")
        assert response.status_code in (302, 422), (sha, name)
    with app.app_context():
        assert count(ImportBatch) == 0
        with pytest.raises(ValidationFailed):
            importer.load_upload("b" * 64, "x.csv")             # never uploaded
        root = Path(app.config["SETTINGS"].FILE_STORE) / "imports" / "cc"
        root.mkdir(parents=True, exist_ok=True)
        (root / ("c" * 64)).write_bytes(b"tampered")
        with pytest.raises(ValidationFailed):
            importer.load_upload("c" * 64, "x.csv")             # content does not match


# ----------------------------------------------------------------------------- CLI
def test_cli_exit_codes(app, department, tmp_path):
    runner = app.test_cli_runner()
    good, bad = tmp_path / "good.csv", tmp_path / "bad.xlsx"
    good.write_bytes(csv_bytes(GOOD))
    bad.write_bytes(xlsx_bytes(BAD))

    result = runner.invoke(args=["inspectors", "import", str(bad)])
    assert result.exit_code == 1
    assert "row 3" in result.output and "unknown_department" in result.output
    with app.app_context():
        assert count(Inspector) == 0

    result = runner.invoke(args=["inspectors", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output

    result = runner.invoke(args=["inspectors", "import", str(bad), "--only-valid"])
    assert result.exit_code == 2
    assert "duplicate_in_file" in result.output and "1 created" in result.output
    with app.app_context():
        assert count(Inspector) == 3
        assert db.session.scalar(select(ImportBatch.actor_id).order_by(
            ImportBatch.id.desc()).limit(1)) is None

    out = tmp_path / "all.xlsx"
    result = runner.invoke(args=["inspectors", "export", str(out)])
    assert result.exit_code == 0
    assert len(list(load_workbook(out).active.iter_rows())) == 4


# ----------------------------------------------------------------------------- export
def test_xlsx_round_trip_and_filtered_export(app, login_as, department, make_user):
    make_user("linked", "inspector")
    with app.app_context():
        db.session.add(Region(code="370305003", name="辛店街道", county_code="370305",
                              county_name="临淄区"))
        db.session.commit()
        day = ops.today()
        ops.create_inspector({"name": "周一", "department": "LSJC",
                              "cert_kind": "labour_inspector", "cert_number": "LJ9001",
                              "cert_expires": day + timedelta(days=300),
                              "tags": ["wages", "夜班巡查"], "qualifications": "资格, 含逗号",
                              "home_region": "370305003", "phone": "0533-7100001",
                              "username": "linked", "notes": "备注\n两行"})
        ops.create_inspector({"name": "周二", "department": "LSJC",
                              "cert_kind": "law_enforcement", "cert_number": "ZF9002",
                              "cert_expires": day - timedelta(days=2), "pool": "third_party",
                              "status": "retired"})
    c = login_as("office")
    response = c.get("/inspectors/export.xlsx")
    assert response.status_code == 200
    assert re.search(r"attachment; filename=inspectors-\d{8}\.xlsx",
                     response.headers["Content-Disposition"])
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "姓名" and len(rows) == 3
    with app.app_context():
        before = {i.cert_number: (i.name, i.tags, i.user_id, i.home_region_code, i.notes,
                                  i.status, i.pool, i.cert_expires)
                  for i in db.session.scalars(select(Inspector))}
        batch, result = importer.run_import(response.data, "export.xlsx")
        assert result.ok and (batch.created, batch.updated, batch.unchanged) == (0, 0, 2)
        after = {i.cert_number: (i.name, i.tags, i.user_id, i.home_region_code, i.notes,
                                 i.status, i.pool, i.cert_expires)
                 for i in db.session.scalars(select(Inspector))}
        assert after == before
    filtered = c.get("/inspectors/export.xlsx?drawable=no")
    rows = list(load_workbook(io.BytesIO(filtered.data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["周二"]
