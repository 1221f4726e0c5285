"""The inspectors directory: validation, who may be drawn, history, optimistic locking,
conflicts, confirmation, the office pages and who may use them."""
import random
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from inspection.core import audit
from inspection.core import operations as core_ops
from inspection.core.errors import Conflict, NotFound, ValidationFailed
from inspection.core.models import AuditEntry
from inspection.directory.credit_code import random_code
from inspection.directory.inspectors import operations as ops
from inspection.directory.models import (DirectoryChange, DirectoryConfirmation, Employer,
                                         Inspector, InspectorConflict, Region)
from inspection.extensions import db


# ----------------------------------------------------------------------------- helpers
def add_region(code="370305001", name="闻韶街道"):
    region = db.session.get(Region, code)
    if region is None:
        region = Region(code=code, name=name, county_code="370305", county_name="临淄区")
        db.session.add(region)
        db.session.commit()
    return region


def add_employer(name="淄博齐鲁化工有限公司", seed=1):
    add_region()
    employer = Employer(credit_code=random_code(random.Random(seed)), name=name,
                        employer_type="enterprise", region_code="370305001", industry="C")
    db.session.add(employer)
    db.session.commit()
    return employer


def values(**over):
    data = {"name": "张伟", "department": "LSJC", "cert_kind": "labour_inspector",
            "cert_number": "LJ3703050001", "cert_expires": ops.today() + timedelta(days=400),
            "tags": ["wages", "social_insurance"], "qualifications": "劳动保障监察员资格"}
    data.update(over)
    return data


def make(n=1, **over):
    base = over.pop("cert_number", "LJ37030500")
    return ops.create_inspector(values(cert_number=f"{base}{n:02d}", **over))


def changes_of(inspector_id):
    return db.session.scalars(select(DirectoryChange).where(
        DirectoryChange.subject_type == "inspector", DirectoryChange.subject_id == inspector_id)
        .order_by(DirectoryChange.id)).all()


def audit_actions():
    return [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def codes(excinfo, field):
    return [m.code for m in excinfo.value.fields[field]]


# ----------------------------------------------------------------------------- validation
def test_create_stores_values_with_defaults(ctx, department):
    add_region()
    inspector = ops.create_inspector(values(cert_number=" lj 3703050001 ",
                                            tags="工资支付, social_insurance，职业病防治",
                                            home_region="闻韶街道"))
    assert inspector.cert_number == "LJ3703050001"
    assert inspector.status == "available" and inspector.pool == "staff"
    assert inspector.tags == ["wages", "social_insurance", "职业病防治"]   # free tag kept
    assert inspector.home_region_code == "370305001"
    assert inspector.version == 1
    assert audit_actions()[-1] == "inspector.create"
    assert audit.verify()[1] is None


@pytest.mark.parametrize("field,value,code", [
    ("name", "", "required"),
    ("name", "名" * 51, "too_long"),
    ("department", "NOPE", "unknown_department"),
    ("department", "", "required"),
    ("cert_kind", "driving_licence", "unknown_cert_kind"),
    ("cert_kind", "", "required"),
    ("cert_number", "  ", "required"),
    ("cert_expires", "31.12.2027", "bad_date"),
    ("cert_expires", "", "required"),
    ("cert_expires", "1900-01-01", "date_out_of_range"),
    ("status", "sick", "unknown_status"),
    ("pool", "volunteer", "unknown_pool"),
    ("username", "ghost", "unknown_username"),
    ("home_region", "月球街道", "unknown_region"),
    ("tags", [f"t{i}" for i in range(21)], "too_many_tags"),
    ("tags", ["x" * 31], "tag_too_long"),
    ("phone", "1" * 31, "too_long"),
])
def test_validation_errors_per_field(ctx, department, field, value, code):
    with pytest.raises(ValidationFailed) as excinfo:
        ops.create_inspector(values(**{field: value}))
    assert code in codes(excinfo, field)
    assert db.session.scalar(select(func.count(Inspector.id))) == 0


def test_several_errors_are_reported_at_once(ctx, department):
    with pytest.raises(ValidationFailed) as excinfo:
        ops.create_inspector(values(name="", cert_kind="x", status="y"))
    assert set(excinfo.value.fields) == {"name", "cert_kind", "status"}


def test_certificate_number_and_linked_account_are_unique(ctx, department, make_user):
    make_user("zhangwei", "inspector")
    first = make(1, username="zhangwei")
    assert first.user.username == "zhangwei"
    with pytest.raises(ValidationFailed) as excinfo:
        ops.create_inspector(values(cert_number=first.cert_number.lower()))
    assert codes(excinfo, "cert_number") == ["cert_number_taken"]
    with pytest.raises(ValidationFailed) as excinfo:
        make(2, username="ZhangWei")
    assert codes(excinfo, "username") == ["username_taken"]
    # the record itself may keep its own number and account
    ops.update_inspector(first, {"cert_number": first.cert_number, "username": "zhangwei",
                                 "name": "张伟伟"}, first.version)
    assert first.name == "张伟伟"


# ----------------------------------------------------------------------------- drawable
def test_drawable_rules_status_certificate_pool_department(ctx, department):
    shbx = core_ops.create_department("社会保险", "SHBX")
    day = ops.today()
    ok = make(1)
    ends_today = make(2, cert_expires=day)
    expired = make(3, cert_expires=day - timedelta(days=1))
    on_leave = make(4, status="on_leave")
    transferred = make(5, status="transferred")
    retired = make(6, status="retired")
    expert = make(7, pool="expert")
    third = make(8, pool="third_party")
    other_dept = make(9, department="SHBX")

    staff = {i.id for i in ops.drawable_inspectors(on=day)}
    assert staff == {ok.id, ends_today.id, other_dept.id}
    assert {i.id for i in ops.drawable_inspectors(department_id=department, on=day)} == \
        {ok.id, ends_today.id}
    assert {i.id for i in ops.drawable_inspectors(department_id=shbx.id, on=day)} == \
        {other_dept.id}
    assert {i.id for i in ops.drawable_inspectors(on=day, pools=["expert", "third_party"])} == \
        {expert.id, third.id}
    # tomorrow the certificate that ends today has expired
    assert ends_today.id not in {i.id for i in ops.drawable_inspectors(
        on=day + timedelta(days=1))}
    # stable order: by certificate number
    numbers = [i.cert_number for i in ops.drawable_inspectors(on=day)]
    assert numbers == sorted(numbers)

    assert ops.why_not_drawable(ok, day) == []
    assert ops.why_not_drawable(expert, day) == []
    assert [r.code for r in ops.why_not_drawable(expert, day, pools=["staff"])] == ["pool"]
    reasons = ops.why_not_drawable(expired, day)
    assert [r.code for r in reasons] == ["certificate_expired"]
    assert (day - timedelta(days=1)).isoformat() in reasons[0]
    assert [r.code for r in ops.why_not_drawable(on_leave, day)] == ["status:on_leave"]
    assert [r.code for r in ops.why_not_drawable(transferred, day)] == ["status:transferred"]
    assert [r.code for r in ops.why_not_drawable(retired, day)] == ["status:retired"]
    # reasons are plain strings too, and add up
    both = make(10, status="on_leave", cert_expires=day - timedelta(days=3))
    assert [r.code for r in ops.why_not_drawable(both, day)] == ["status:on_leave",
                                                                 "certificate_expired"]
    assert all(isinstance(r, str) for r in ops.why_not_drawable(both, day))


def test_conflicts_exclude_only_for_that_employer_while_active(ctx, department):
    near = add_employer("淄博甲公司", seed=1)
    far = add_employer("淄博乙公司", seed=2)
    inspector = make(1)
    other = make(2)
    conflict = ops.declare_conflict(inspector, near.credit_code, "relative", "配偶在该单位工作")
    day = ops.today()
    ids = {i.id for i in ops.drawable_inspectors(on=day,
                                                 exclude_conflicts_with_employer_ids=[near.id])}
    assert ids == {other.id}
    ids = {i.id for i in ops.drawable_inspectors(on=day,
                                                 exclude_conflicts_with_employer_ids=[far.id])}
    assert ids == {inspector.id, other.id}
    assert {i.id for i in ops.drawable_inspectors(on=day)} == {inspector.id, other.id}
    reasons = ops.why_not_drawable(inspector, day, employer_ids=[near.id])
    assert [r.code for r in reasons] == ["conflict"] and "淄博甲公司" in reasons[0]

    ops.end_conflict(conflict, "亲属已离职")
    ids = {i.id for i in ops.drawable_inspectors(on=day,
                                                 exclude_conflicts_with_employer_ids=[near.id])}
    assert ids == {inspector.id, other.id}
    assert ops.why_not_drawable(inspector, day, employer_ids=[near.id]) == []
    # ended, but on record
    row = db.session.get(InspectorConflict, conflict.id)
    assert row.ended_at is not None and row.note == "配偶在该单位工作"


def test_expiring_soon_window(ctx, department):
    day = ops.today()
    assert ops.expiring_soon(make(1, cert_expires=day), day)
    assert ops.expiring_soon(make(2, cert_expires=day + timedelta(days=29)), day)
    assert not ops.expiring_soon(make(3, cert_expires=day + timedelta(days=30)), day)
    assert not ops.expiring_soon(make(4, cert_expires=day - timedelta(days=1)), day)


# ----------------------------------------------------------------------------- changes
def test_update_records_history_and_bumps_version(ctx, department):
    core_ops.create_department("社会保险", "SHBX")
    inspector = make(1)
    ops.update_inspector(inspector, {"status": "on_leave", "department": "SHBX",
                                     "tags": ["wages"]}, 1, reason="产假")
    assert inspector.version == 2
    rows = changes_of(inspector.id)
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].changes == {"status": ["available", "on_leave"],
                               "department": ["劳动保障监察", "社会保险"],
                               "tags": [["wages", "social_insurance"], ["wages"]]}
    assert rows[1].reason == "产假" and rows[1].actor_name == "system"
    assert rows[0].changes["name"] == [None, "张伟"]
    assert audit_actions()[-1] == "inspector.update"
    # a change that changes nothing is not a change
    ops.update_inspector(inspector, {"status": "on_leave"}, 2)
    assert inspector.version == 2 and len(changes_of(inspector.id)) == 2


def test_stale_version_is_refused(ctx, department):
    inspector = make(1)
    ops.update_inspector(inspector, {"name": "张伟一"}, 1)
    with pytest.raises(Conflict) as excinfo, force_locale("en"):
        ops.update_inspector(inspector, {"name": "张伟二"}, 1)
    assert "version 1, now 2" in excinfo.value.message
    with pytest.raises(Conflict):
        ops.update_inspector(inspector, {"name": "张伟二"}, None)
    db.session.rollback()
    assert db.session.get(Inspector, inspector.id).name == "张伟一"


def test_conflict_declare_and_end_rules(ctx, department):
    employer = add_employer()
    inspector = make(1)
    with pytest.raises(ValidationFailed) as excinfo:
        ops.declare_conflict(inspector, "91370305MA3XXXXXXX", "cousin", "")
    assert set(excinfo.value.fields) == {"employer", "relation"}
    conflict = ops.declare_conflict(inspector, employer.id, "former_employer", "2019 年前任职")
    with pytest.raises(Conflict):
        ops.declare_conflict(inspector, employer.credit_code, "other", "")
    with pytest.raises(ValidationFailed):
        ops.end_conflict(conflict, "  ")
    ops.end_conflict(conflict, "已超过回避期限")
    with pytest.raises(Conflict):
        ops.end_conflict(conflict, "again")
    # once ended, a new conflict with the same employer may be declared
    ops.declare_conflict(inspector, employer.credit_code, "other", "再次申报")
    rows = changes_of(inspector.id)
    assert [r.action for r in rows] == ["create", "conflict.declare", "conflict.end",
                                        "conflict.declare"]
    assert rows[2].reason == "已超过回避期限"
    assert rows[1].changes["conflict"][1]["employer"] == employer.credit_code
    assert len(db.session.get(Inspector, inspector.id).conflicts) == 2
    assert audit_actions().count("inspector.conflict.declare") == 2
    assert audit.verify()[1] is None
    with pytest.raises(NotFound):
        ops.get_conflict(make(2), conflict.id)


def test_confirmation_goes_stale_after_a_change(ctx, department, make_user):
    from inspection.core.models import User
    actor = db.session.get(User, make_user("boss", "office"))
    assert ops.confirmation_state().stale and ops.confirmation_state().last is None
    inspector = make(1)
    row = ops.confirm_current(actor, "抽取前核对")
    assert row.kind == "inspectors" and row.row_count == 1
    state = ops.confirmation_state()
    assert not state.stale and state.changes_since == 0
    ops.update_inspector(inspector, {"name": "李四"}, 1)
    state = ops.confirmation_state()
    assert state.stale and state.changes_since == 1
    assert audit_actions().count("inspector.directory.confirm") == 1


# ----------------------------------------------------------------------------- pages
@pytest.fixture
def seeded(app, department):
    """Four inspectors: one drawable, one expired, one on leave, one expiring soon."""
    with app.app_context():
        core_ops.create_department("社会保险", "SHBX")
        day = ops.today()
        ids = {
            "ok": make(1, name="王建华").id,
            "expired": make(2, name="李秀英", cert_expires=day - timedelta(days=10)).id,
            "leave": make(3, name="刘志明", status="on_leave", tags=["occupational_safety"],
                          department="SHBX").id,
            "soon": make(4, name="陈丽娟", cert_expires=day + timedelta(days=7),
                         pool="expert").id,
        }
        return ids


def names_in(html):
    return re.findall(r'href="/inspectors/\d+">([^<]+)</a>', html)


def test_list_filters(login_as, seeded):
    c = login_as("office")
    html = c.get("/inspectors/").get_data(as_text=True)
    assert sorted(names_in(html)) == sorted(["王建华", "李秀英", "刘志明", "陈丽娟"])
    assert 'data-confirmation="never"' in html

    def names(query):
        response = c.get("/inspectors/?" + query)
        assert response.status_code == 200
        return sorted(names_in(response.get_data(as_text=True)))

    assert names("drawable=no") == sorted(["李秀英", "刘志明"])
    assert names("drawable=yes") == sorted(["王建华", "陈丽娟"])
    assert names("expiring=y") == ["陈丽娟"]
    assert names("status=on_leave") == ["刘志明"]
    assert names("pool=expert") == ["陈丽娟"]
    assert names("tag=occupational_safety") == ["刘志明"]
    assert names("tag=职业安全") == ["刘志明"]       # a suggested tag's name works too
    assert names("q=建华") == ["王建华"]
    assert names("q=lj3703050002") == ["李秀英"]     # certificate number, any case
    with c.app.app_context():
        shbx = core_ops.get_department("SHBX").id
    assert names(f"department={shbx}") == ["刘志明"]


def test_list_shows_why_not_drawable(login_as, seeded):
    c = login_as("office")
    html = c.get("/inspectors/").get_data(as_text=True)
    assert html.count('data-drawable="no"') == 2 and html.count('data-drawable="yes"') == 2
    assert 'data-reason="certificate_expired"' in html
    assert 'data-reason="status:on_leave"' in html
    expired_on = (ops.today() - timedelta(days=10)).isoformat()
    assert expired_on in html
    assert html.count('data-cert="expiring"') == 1 and html.count('data-cert="expired"') == 1
    detail = c.get(f"/inspectors/{seeded['expired']}").get_data(as_text=True)
    assert 'data-drawable="no"' in detail and 'data-reason="certificate_expired"' in detail


def test_list_is_paginated(app, login_as, department):
    with app.app_context():
        for n in range(52):
            make(n)
    c = login_as("supervisor")
    first = c.get("/inspectors/").get_data(as_text=True)
    second = c.get("/inspectors/?page=2").get_data(as_text=True)
    assert len(names_in(first)) == 50 and len(names_in(second)) == 2
    assert "52" in first


def test_create_edit_and_history_through_pages(app, login_as, department):
    c = login_as("office")
    with app.app_context():
        dept = department
    form = {"name": "赵敏", "department": str(dept), "cert_kind": "law_enforcement",
            "cert_number": "37030500123001", "cert_expires": "2030-06-30",
            "status": "available", "pool": "staff", "tags": ["wages", "child_labour"],
            "extra_tags": "建筑业欠薪", "qualifications": "", "home_region": "", "phone": "",
            "username": "", "notes": ""}
    bad = c.post_form("/inspectors/new", dict(form, cert_expires="not-a-date", name=""))
    assert bad.status_code == 422
    response = c.post_form("/inspectors/new", form)
    assert response.status_code == 302
    inspector_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        inspector = db.session.get(Inspector, inspector_id)
        assert inspector.tags == ["wages", "child_labour", "建筑业欠薪"]
        assert inspector.version == 1

    edit_path = f"/inspectors/{inspector_id}/edit"
    page = c.get(edit_path).get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in page
    # the form opens with the stored values, free tags in their own field
    assert re.search(rf'<option selected value="{dept}">', page)
    assert 'value="建筑业欠薪"' in page and 'value="2030-06-30"' in page
    assert re.search(r'checked[^>]*value="child_labour"|value="child_labour"[^>]*checked', page)
    saved = c.post_form(edit_path, dict(form, status="on_leave", version="1",
                                        reason="病假三个月"))
    assert saved.status_code == 302
    c.http.set_cookie("lang", "en")       # the message is checked in English
    stale = c.post_form(edit_path, dict(form, name="赵敏敏", version="1"))
    assert stale.status_code == 409
    assert "Someone else changed this inspector" in stale.get_data(as_text=True)
    with app.app_context():
        inspector = db.session.get(Inspector, inspector_id)
        assert inspector.name == "赵敏" and inspector.status == "on_leave"
        rows = changes_of(inspector_id)
        assert [r.action for r in rows] == ["create", "update"]
        assert rows[1].actor_name == "u_office" and rows[1].reason == "病假三个月"
        assert rows[1].changes == {"status": ["available", "on_leave"]}
        assert rows[1].at is not None
    detail = c.get(f"/inspectors/{inspector_id}").get_data(as_text=True)
    assert "u_office" in detail and "病假三个月" in detail
    assert 'data-reason="status:on_leave"' in detail


def test_conflicts_and_confirmation_through_pages(app, login_as, department):
    with app.app_context():
        employer = add_employer("淄博丙公司")
        code = employer.credit_code
        inspector_id = make(1).id
    c = login_as("office")
    path = f"/inspectors/{inspector_id}"
    missing = c.post_form(f"{path}/conflicts", {"credit_code": "X", "relation": "relative",
                                                "note": "n"}, token_from=path)
    assert missing.status_code == 422
    response = c.post_form(f"{path}/conflicts", {"credit_code": code.lower(),
                                                 "relation": "relative",
                                                 "note": "妻子在该公司任会计"}, token_from=path)
    assert response.status_code == 302
    html = c.get(path).get_data(as_text=True)
    assert "淄博丙公司" in html and 'data-conflict="active"' in html
    with app.app_context():
        conflict_id = db.session.scalar(select(InspectorConflict.id))
    response = c.post_form(f"{path}/conflicts/{conflict_id}/end", {"reason": "已离职"},
                           token_from=path)
    assert response.status_code == 302
    html = c.get(path).get_data(as_text=True)
    assert 'data-conflict="ended"' in html and "已离职" in html

    response = c.post_form("/inspectors/confirm", {"note": "抽取前"}, token_from="/inspectors/")
    assert response.status_code == 302
    html = c.get("/inspectors/").get_data(as_text=True)
    assert 'data-confirmation="current"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count(DirectoryConfirmation.id))) == 1


# ----------------------------------------------------------------------------- permissions
def test_inspector_role_sees_nothing(app, login_as, seeded):
    c = login_as("inspector")
    for path in ("/inspectors/", f"/inspectors/{seeded['ok']}", "/inspectors/export.xlsx",
                 "/inspectors/import", "/inspectors/template.xlsx",
                 "/api/v1/inspectors", f"/api/v1/inspectors/{seeded['ok']}",
                 f"/api/v1/inspectors/{seeded['ok']}/conflicts"):
        assert c.get(path).status_code == 403, path
    token = c.api_token()
    assert c.http.post("/inspectors/confirm", data={"csrf_token": token}).status_code == 403
    assert c.api("POST", "/api/v1/inspectors", json=values()).status_code == 403


def test_supervisor_reads_but_cannot_write(app, login_as, seeded):
    c = login_as("supervisor")
    inspector_id = seeded["ok"]
    for path in ("/inspectors/", f"/inspectors/{inspector_id}", "/inspectors/export.xlsx",
                 "/api/v1/inspectors", f"/api/v1/inspectors/{inspector_id}"):
        assert c.get(path).status_code == 200, path
    page = c.get(f"/inspectors/{inspector_id}").get_data(as_text=True)
    assert f"/inspectors/{inspector_id}/edit" not in page       # no edit button shown
    for path in ("/inspectors/new", f"/inspectors/{inspector_id}/edit", "/inspectors/import"):
        assert c.get(path).status_code == 403, path
    token = c.api_token()
    for path in ("/inspectors/confirm", "/inspectors/new", f"/inspectors/{inspector_id}/edit",
                 f"/inspectors/{inspector_id}/conflicts", "/inspectors/import/confirm"):
        assert c.http.post(path, data={"csrf_token": token}).status_code == 403, path
    assert c.api("POST", "/api/v1/inspectors", json=values()).status_code == 403
    assert c.api("PATCH", f"/api/v1/inspectors/{inspector_id}",
                 json={"name": "x", "version": 1}).status_code == 403
    assert c.api("POST", f"/api/v1/inspectors/{inspector_id}/conflicts",
                 json={"credit_code": "x", "relation": "other"}).status_code == 403
