"""The employers directory through its pages and operations: validation, the legacy-code
override, change history, reasons for grade/flag changes, optimistic locking, confirmation
before a draw, search and paging, regions and permissions."""
import re

import pytest
from employers_support import (bad_check_char, codes, employer_values, make_employer,
                               regions)  # noqa: F401  (fixture)
from sqlalchemy import func, select

from inspection.core.errors import PermissionDenied, ValidationFailed
from inspection.core.models import AuditEntry, User
from inspection.directory.employers import operations as ops
from inspection.directory.models import DirectoryChange, DirectoryConfirmation, Employer
from inspection.extensions import db


def form_data(code, **kw):
    data = employer_values(code, **kw)
    data = {k: v for k, v in data.items() if v is not False}
    data = {k: ("y" if v is True else v) for k, v in data.items()}
    data["employees"] = str(data.get("employees", ""))
    return data


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


# --- validation ---------------------------------------------------------------------------
def test_office_creates_an_employer_with_history_and_audit(app, regions, login_as):
    c = login_as("office")
    code = codes(1)[0]
    r = c.post_form("/employers/new", form_data(code))
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        e = db.session.scalar(select(Employer).where(Employer.credit_code == code))
        assert e.version == 1 and e.name == "淄博齐鲁化工有限公司" and e.employees == 30
        change = db.session.scalar(select(DirectoryChange).where(DirectoryChange.subject_id == e.id))
        assert change.action == "create" and change.actor_name == "u_office"
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "employer.create")) == 1


def test_invalid_code_is_refused_with_the_reason_in_chinese(app, regions, login_as):
    c = login_as("office")
    r = c.post_form("/employers/new", form_data(bad_check_char(codes(1)[0])))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "第18位校验码应为" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Employer.id))) == 0


def test_invalid_code_reason_in_english_for_an_english_user(app, regions, login_as):
    c = login_as("office")
    assert c.api("PATCH", "/api/v1/me", json={"locale": "en"}).status_code == 200
    r = c.post_form("/employers/new", form_data("91370305MA3C4D5E6O"))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Position 18 holds the letter &#39;O&#39;" in html or "Position 18 holds the letter 'O'" in html


@pytest.mark.parametrize("field,value", [
    ("name", ""),
    ("employer_type", "factory"),
    ("region_code", "999999999"),
    ("industry", "Z"),
    ("employees", "many"),
    ("employees", "-3"),
    ("risk_grade", "E"),
    ("status", "vanished"),
    ("contact_phone", "call me"),
    ("address", "x" * 301),
])
def test_each_bad_field_is_refused_by_name(app, regions, ctx, field, value):
    with pytest.raises(ValidationFailed) as info:
        ops.create_employer(employer_values(codes(1)[0], **{field: value}), actor=None)
    assert field in info.value.fields, info.value.fields
    assert db.session.scalar(select(func.count(Employer.id))) == 0


def test_known_labels_are_accepted_as_well_as_codes(app, regions, ctx):
    e = ops.create_employer(employer_values(codes(1)[0], employer_type="个体经济组织（个体工商户）",
                                            region_code="闻韶街道", industry="制造业",
                                            status="在营", risk_grade="c"), actor=None)
    assert (e.employer_type, e.region_code, e.industry, e.risk_grade) == (
        "individual_business", "370305001", "C", "C")


def test_legacy_code_needs_a_reason(app, regions, login_as):
    c = login_as("office")
    legacy = "3703051234567X"  # a pre-2015 style code: wrong length
    r = c.post_form("/employers/new", form_data(legacy))
    assert r.status_code == 422
    assert "统一社会信用代码应为18位" in r.get_data(as_text=True)
    r = c.post_form("/employers/new", {**form_data(legacy),
                                       "override_reason": "试点期间发放的旧代码，营业执照原件已核对"})
    assert r.status_code == 302
    with app.app_context():
        e = db.session.scalar(select(Employer).where(Employer.credit_code == legacy))
        assert e.code_override_reason == "试点期间发放的旧代码，营业执照原件已核对"
        change = db.session.scalar(select(DirectoryChange).where(DirectoryChange.subject_id == e.id))
        assert "试点期间" in change.reason
        audit_entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "employer.create"))
        assert audit_entry.summary["code_override_reason"].startswith("试点期间")
    page = c.get(f"/employers/{e.id}").get_data(as_text=True)
    assert "试点期间发放的旧代码" in page


def test_legacy_code_override_needs_the_office_or_admin_role(app, regions, make_user, ctx):
    approver = db.session.get(User, make_user("appr", "approver"))
    with pytest.raises(PermissionDenied):
        ops.create_employer(employer_values("3703051234567X"), actor=approver,
                            override_reason="old code")
    admin = db.session.get(User, make_user("adm", "admin"))
    e = ops.create_employer(employer_values("3703051234567X"), actor=admin,
                            override_reason="old code")
    assert e.code_override_reason == "old code"


def test_duplicate_code_is_a_conflict(app, regions, login_as):
    c = login_as("office")
    code = codes(1)[0]
    assert c.post_form("/employers/new", form_data(code)).status_code == 302
    r = c.post_form("/employers/new", form_data(code, name="另一家"))
    assert r.status_code == 409


# --- editing: reasons, history, optimistic lock ---------------------------------------------
def test_grade_change_needs_a_reason_and_history_shows_who_when_what_why(app, regions, login_as):
    c = login_as("office")
    eid = make_employer(app, codes(1)[0])
    r = c.post_form(f"/employers/{eid}/edit", {**form_data(codes(1)[0], risk_grade="D"),
                                                "version": "1"})
    assert r.status_code == 422
    assert "reason" in r.get_data(as_text=True).lower()
    r = c.post_form(f"/employers/{eid}/edit", {**form_data(codes(1)[0], risk_grade="D",
                                                           flag_complaints=True),
                                                "version": "1", "reason": "一年内投诉12次"})
    assert r.status_code == 302, r.get_data(as_text=True)
    page = c.get(f"/employers/{eid}").get_data(as_text=True)
    assert "u_office" in page and "一年内投诉12次" in page
    assert "risk_grade" in page and "B → D" in page
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", page)  # when
    with app.app_context():
        e = db.session.get(Employer, eid)
        assert e.version == 2 and e.risk_grade == "D" and e.flag_complaints
        audit_entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "employer.update"))
        assert audit_entry.summary["risk_grade"] == ["B", "D"]
        assert audit_entry.summary["reason"] == "一年内投诉12次"


def test_flag_change_without_reason_is_refused(app, regions, ctx):
    eid = make_employer(app, codes(1)[0])
    e = db.session.get(Employer, eid)
    with pytest.raises(ValidationFailed) as info:
        ops.update_employer(e, {"flag_abnormal": True}, version=1, actor=None)
    assert "reason" in info.value.fields
    # other fields need no reason
    ops.update_employer(e, {"address": "临淄区新址9号"}, version=1, actor=None)
    assert db.session.get(Employer, eid).version == 2


def test_stale_form_gets_409_and_keeps_the_entries(app, regions, login_as):
    c = login_as("office")
    eid = make_employer(app, codes(1)[0])
    with app.test_request_context():
        e = db.session.get(Employer, eid)
        ops.update_employer(e, {"name": "淄博齐鲁化工股份有限公司"}, version=1, actor=None)
    r = c.post_form(f"/employers/{eid}/edit", {**form_data(codes(1)[0], address="我的新地址88号"),
                                                "version": "1"})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "我的新地址88号" in html                      # nothing typed is lost
    assert "淄博齐鲁化工股份有限公司" in html               # the stored value is shown
    assert 'name="version" type="hidden" value="2"' in html
    with app.app_context():
        e = db.session.get(Employer, eid)
        assert e.address == "临淄区桓公路8号" and e.version == 2


def test_edit_form_shows_current_values(app, regions, login_as):
    c = login_as("office")
    eid = make_employer(app, codes(1)[0])
    html = c.get(f"/employers/{eid}/edit").get_data(as_text=True)
    assert 'value="淄博齐鲁化工有限公司"' in html and 'name="version" type="hidden" value="1"' in html


# --- confirmation before a draw -----------------------------------------------------------
def test_confirm_current_and_staleness(app, regions, login_as):
    c = login_as("office")
    eid = make_employer(app, codes(1)[0])
    with app.app_context():
        assert ops.latest_confirmation() is None and not ops.is_confirmed_current()
    assert c.post_form("/employers/confirm", {"note": "抽查前核对"}, token_from="/employers/").status_code == 302
    with app.app_context():
        conf = ops.latest_confirmation()
        assert conf.row_count == 1 and conf.note == "抽查前核对"
        assert ops.is_confirmed_current()
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "directory.confirm")) == 1
    page = c.get("/employers/").get_data(as_text=True)
    assert "badge ok" in page and "u_office".title() in page
    with app.test_request_context():
        ops.update_employer(db.session.get(Employer, eid), {"notes": "changed"}, version=1,
                            actor=None)
        assert not ops.is_confirmed_current()
    assert "badge warn" in c.get("/employers/").get_data(as_text=True)
    c.post_form("/employers/confirm", {}, token_from="/employers/")
    with app.app_context():
        assert ops.is_confirmed_current()
        assert db.session.scalar(select(func.count(DirectoryConfirmation.id))) == 2


def test_an_import_that_creates_employers_makes_the_confirmation_stale(app, regions, ctx):
    from employers_support import csv_bytes, row
    import io
    from inspection.directory.employers import importer
    admin_id = None
    make_employer(app, codes(1)[0])
    from inspection.core import operations as core_ops
    dept = core_ops.create_department("监察", "JC")
    admin = core_ops.create_user("boss", "Boss", dept, ["admin"], "Correct-horse-42")
    ops.confirm_current(admin)
    assert ops.is_confirmed_current()
    importer.run_import(io.BytesIO(csv_bytes(row(codes(2, seed=99)[1]))), "x.csv", actor=admin)
    assert not ops.is_confirmed_current() and admin_id is None


# --- list, search, paging -----------------------------------------------------------------
def test_search_filters_and_keyset_pages(app, regions, login_as, ctx):
    all_codes = codes(7)
    for i, code in enumerate(all_codes):
        make_employer(app, code, name=f"{'淄博' if i % 2 else '临淄区'}样本{i}有限公司",
                      risk_grade="C" if i == 3 else "A", region_code="370305002" if i == 5 else "370305001",
                      flag_abnormal=(i == 4), status="closed" if i == 6 else "active")
    names = lambda page: [e.name for e in page.items]  # noqa: E731
    assert len(ops.search(ops.Filters(q="淄博")).items) == 3
    assert names(ops.search(ops.Filters(q="样本3", contains=True))) == ["淄博样本3有限公司"]
    assert names(ops.search(ops.Filters(q="样本3"))) == []  # a prefix search by default
    assert len(ops.search(ops.Filters(q=all_codes[2][:12].lower())).items) >= 1
    assert names(ops.search(ops.Filters(risk_grade="C"))) == ["淄博样本3有限公司"]
    assert names(ops.search(ops.Filters(region_code="370305002"))) == ["淄博样本5有限公司"]
    assert names(ops.search(ops.Filters(flag="flag_abnormal"))) == ["临淄区样本4有限公司"]
    assert names(ops.search(ops.Filters(status="closed"))) == ["临淄区样本6有限公司"]
    first = ops.search(ops.Filters(), limit=3)
    assert first.count == 7 and not first.capped and first.prev_before is None
    second = ops.search(ops.Filters(), after=first.next_after, limit=3)
    third = ops.search(ops.Filters(), after=second.next_after, limit=3)
    assert len(third.items) == 1 and third.next_after is None
    seen = names(first) + names(second) + names(third)
    assert len(set(seen)) == 7
    back = ops.search(ops.Filters(), before=second.prev_before, limit=3)
    assert names(back) == names(first)
    # a name-prefix search pages in name order
    by_name = ops.search(ops.Filters(q="临淄区"), limit=2)
    assert names(by_name) == ["临淄区样本0有限公司", "临淄区样本2有限公司"]
    rest = ops.search(ops.Filters(q="临淄区"), after=by_name.next_after, limit=2)
    assert names(rest) == ["临淄区样本4有限公司", "临淄区样本6有限公司"] and rest.next_after is None
    assert names(ops.search(ops.Filters(q="临淄区"), before=rest.prev_before, limit=2)) == names(by_name)

    c = login_as("supervisor")
    html = c.get("/employers/?q=淄博&risk_grade=C").get_data(as_text=True)
    assert "淄博样本3有限公司" in html and "淄博样本1有限公司" not in html


def test_list_pages_with_next_link(app, regions, login_as):
    for code in codes(55):
        make_employer(app, code)
    c = login_as("office")
    html = c.get("/employers/").get_data(as_text=True)
    match = re.search(r'href="/employers/\?after=(\d+)"', html)
    assert match and "55" in html
    html2 = c.get(f"/employers/?after={match.group(1)}").get_data(as_text=True)
    assert html2.count("/employers/") > 5 and "before=" in html2


# --- permissions --------------------------------------------------------------------------
def test_inspector_sees_nothing_of_the_directory(app, regions, login_as):
    eid = make_employer(app, codes(1)[0])
    c = login_as("inspector")
    for path in ("/employers/", f"/employers/{eid}", "/employers/regions", "/employers/export.xlsx",
                 "/api/v1/employers", f"/api/v1/employers/{codes(1)[0]}"):
        assert c.get(path).status_code == 403, path


def test_supervisor_reads_but_cannot_write(app, regions, login_as):
    eid = make_employer(app, codes(1)[0])
    c = login_as("supervisor")
    assert c.get("/employers/").status_code == 200
    assert c.get(f"/employers/{eid}").status_code == 200
    assert c.get("/api/v1/employers").status_code == 200
    token = c.token("/employers/")
    for path in ("/employers/new", f"/employers/{eid}/edit", "/employers/confirm",
                 "/employers/import", "/employers/import/confirm", "/employers/regions"):
        r = c.http.post(path, data={"csrf_token": token})
        assert r.status_code == 403, path
    r = c.api("POST", "/api/v1/employers", json=employer_values(codes(2)[1]))
    assert r.status_code == 403
    r = c.api("PATCH", f"/api/v1/employers/{codes(1)[0]}", json={"version": 1, "notes": "x"})
    assert r.status_code == 403
    assert c.get("/employers/new").status_code == 403


# --- regions ------------------------------------------------------------------------------
def test_regions_page_lists_and_adds(app, regions, login_as):
    c = login_as("office")
    assert "闻韶街道" in c.get("/employers/regions").get_data(as_text=True)
    r = c.post_form("/employers/regions", {"code": "370305107", "name": "测试镇",
                                           "county_code": "370305", "county_name": "临淄区"})
    assert r.status_code == 302
    assert "测试镇" in c.get("/employers/regions").get_data(as_text=True)
    r = c.post_form("/employers/regions", {"code": "370399001", "name": "错镇",
                                           "county_code": "370305", "county_name": "临淄区"})
    assert r.status_code == 422
    r = c.post_form("/employers/regions", {"code": "370305107", "name": "重复",
                                           "county_code": "370305", "county_name": "临淄区"})
    assert r.status_code == 409
    s = login_as("supervisor")
    assert s.get("/employers/regions").status_code == 200


def test_demo_seed_is_deterministic_and_realistic(app, ctx):
    from inspection.directory.employers.demo import seed_employers
    report = seed_employers(400, seed=11)
    assert report.created == 400 and report.rows_invalid == 0
    first = db.session.scalars(select(Employer.credit_code).order_by(Employer.credit_code)).all()
    grades = dict(db.session.execute(select(Employer.risk_grade, func.count())
                                     .group_by(Employer.risk_grade)).all())
    assert 180 < grades["A"] < 300 and grades["B"] > 70
    names = db.session.scalars(select(Employer.name)).all()
    assert any(n.endswith("有限公司") for n in names) and any(n.startswith("临淄区") for n in names)
    again = seed_employers(400, seed=11)  # same seed: same employers, nothing changes
    assert again.created == 0 and again.updated == 0 and again.unchanged == 400
    assert first == db.session.scalars(select(Employer.credit_code).order_by(Employer.credit_code)).all()
