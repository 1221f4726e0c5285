"""The catalogue's operations: validation per field, versions, retirement, publication, seed."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from inspection.catalogue import operations as ops
from inspection.catalogue.demo import DEMO_PUBLISHED_ON, seed_catalogue
from inspection.catalogue.models import CheckItemVersion, CheckQuestion
from inspection.core import audit
from inspection.core import operations as core_ops
from inspection.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from inspection.core.models import AuditEntry
from inspection.extensions import db


def values(dept, **over):
    data = {
        "code": "T-01",
        "name": "工资支付情况检查",
        "legal_basis": "《劳动保障监察条例》第十一条",
        "content": "检查是否按时足额支付工资。",
        "department_id": dept,
        "target_types": ["enterprise", "individual_business"],
        "method": "on_site",
        "kind": "general",
        "ratio": "0.05",
        "frequency": 1,
        "questions": [
            {"text": "是否按月支付工资？", "legal_basis": "《劳动法》第五十条",
             "evidence_hint": "工资表"},
            {"text": "是否低于最低工资？", "legal_basis": "《最低工资规定》第十二条",
             "evidence_hint": ""},
        ],
    }
    data.update(over)
    return data


def fields_of(excinfo):
    return excinfo.value.fields


def audit_actions():
    return [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


# ----------------------------------------------------------------------------- validation
def test_create_makes_version_1_with_numbered_questions(ctx, department):
    item = ops.create_item(values(department, code=" t-01 "))
    assert item.code == "T-01" and item.status == "active"
    v = item.current
    assert v.number == 1 and v.ratio == Decimal("0.05") and v.frequency == 1
    assert [q.code for q in v.questions] == ["T-01-01", "T-01-02"]
    assert [q.position for q in v.questions] == [1, 2]
    assert v.questions[0].evidence_hint == "工资表"
    assert audit_actions()[-1] == "catalogue.item.create"
    assert audit.verify()[1] is None


@pytest.mark.parametrize("over, field", [
    ({"ratio": "0.25"}, "ratio"),           # above the cap of general items
    ({"ratio": "0"}, "ratio"),
    ({"ratio": "-0.1"}, "ratio"),
    ({"ratio": "1.01"}, "ratio"),
    ({"ratio": "abc"}, "ratio"),
    ({"ratio": "0.123456"}, "ratio"),
    ({"kind": "key", "ratio": "1.5"}, "ratio"),
    ({"frequency": 0}, "frequency"),
    ({"frequency": "x"}, "frequency"),
    ({"questions": []}, "questions"),
    ({"questions": [{"text": "", "legal_basis": "", "evidence_hint": ""}]}, "questions"),
    ({"questions": [{"text": "问题", "legal_basis": ""}]}, "questions"),
    ({"target_types": []}, "target_types"),
    ({"target_types": ["enterprise", "spaceship"]}, "target_types"),
    ({"department_id": 9999}, "department_id"),
    ({"department_id": None}, "department_id"),
    ({"method": "telepathy"}, "method"),
    ({"kind": "special"}, "kind"),
    ({"name": "  "}, "name"),
    ({"legal_basis": ""}, "legal_basis"),
    ({"content": ""}, "content"),
    ({"code": ""}, "code"),
    ({"code": "A B"}, "code"),
])
def test_each_bad_field_is_named(ctx, department, over, field):
    with pytest.raises(ValidationFailed) as excinfo:
        ops.create_item(values(department, **over))
    assert field in fields_of(excinfo), fields_of(excinfo)
    assert fields_of(excinfo)[field]
    assert db.session.scalar(select(func.count(CheckItemVersion.id))) == 0


def test_general_ratio_cap_and_key_item_up_to_100_percent(ctx, department):
    assert ops.GENERAL_RATIO_CAP == Decimal("0.20")
    ops.create_item(values(department, code="G-01", ratio="0.20"))  # the cap itself is allowed
    with pytest.raises(ValidationFailed) as excinfo:
        ops.create_item(values(department, code="G-02", ratio="0.2001"))
    assert "20%" in fields_of(excinfo)["ratio"][0]
    key = ops.create_item(values(department, code="K-01", kind="key", ratio="1.00"))
    assert key.current.ratio == Decimal("1")


def test_several_bad_fields_are_all_reported(ctx, department):
    with pytest.raises(ValidationFailed) as excinfo:
        ops.create_item(values(department, ratio="0.9", frequency=0, questions=[],
                               target_types=["nope"]))
    assert {"ratio", "frequency", "questions", "target_types"} <= set(fields_of(excinfo))


def test_code_is_unique(ctx, department):
    ops.create_item(values(department))
    with pytest.raises(ValidationFailed) as excinfo:
        ops.create_item(values(department, code="t-01", ratio="0.5"))
    assert set(fields_of(excinfo)) >= {"code", "ratio"}


def test_retired_department_is_refused(ctx, department):
    dept = core_ops.create_department("就业", "JY")
    dept.active = False
    db.session.commit()
    with pytest.raises(ValidationFailed) as excinfo:
        ops.create_item(values(dept.id))
    assert "department_id" in fields_of(excinfo)


# ----------------------------------------------------------------------------- versions
def test_edit_makes_new_version_and_old_one_stays_intact(ctx, department):
    item = ops.create_item(values(department))
    v1_id = item.current.id
    v2 = ops.revise_item(item, {"ratio": "0.10", "questions": [
        {"text": "新问题一", "legal_basis": "《劳动法》第五十条"},
        {"text": "是否按月支付工资？", "legal_basis": "《劳动法》第五十条",
         "evidence_hint": "工资表"},
        {"text": "新问题三", "legal_basis": "条例", "evidence_hint": "照片"},
    ]}, "提高比例，增加问题")
    assert v2.number == 2 and v2.id != v1_id
    assert v2.change_note == "提高比例，增加问题"
    assert [q.code for q in v2.questions] == ["T-01-01", "T-01-02", "T-01-03"]
    db.session.expire_all()
    v1 = ops.get_version(v1_id)
    assert v1.number == 1 and v1.ratio == Decimal("0.05")
    assert [q.text for q in v1.questions] == ["是否按月支付工资？", "是否低于最低工资？"]
    assert ops.get_item(item.id).current.id == v2.id
    assert [v.number for v in ops.get_item(item.id).versions] == [1, 2]
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry.action == "catalogue.item.revise"
    assert entry.summary["changes"]["ratio"] == ["0.0500", "0.1000"]
    assert entry.summary["changes"]["questions"] == [2, 3]


def test_edit_keeps_fields_left_out(ctx, department):
    item = ops.create_item(values(department))
    v2 = ops.revise_item(item, {"name": "新名称"}, "改名")
    assert v2.name == "新名称" and v2.ratio == Decimal("0.05")
    assert len(v2.questions) == 2


def test_no_op_edit_makes_no_version_and_no_audit(ctx, department):
    item = ops.create_item(values(department))
    before = audit_actions()
    same = ops.revise_item(item, values(department, code="IGNORED", ratio=Decimal("0.0500"),
                                        target_types=["individual_business", "enterprise"]), "")
    assert same.number == 1
    assert db.session.scalar(select(func.count(CheckItemVersion.id))) == 1
    assert audit_actions() == before


def test_change_note_is_required_for_a_real_change(ctx, department):
    item = ops.create_item(values(department))
    with pytest.raises(ValidationFailed) as excinfo:
        ops.revise_item(item, {"frequency": 2}, "  ")
    assert "change_note" in fields_of(excinfo)
    db.session.rollback()
    assert db.session.scalar(select(func.count(CheckItemVersion.id))) == 1


def test_invalid_edit_makes_no_version(ctx, department):
    item = ops.create_item(values(department))
    with pytest.raises(ValidationFailed) as excinfo:
        ops.revise_item(item, {"ratio": "0.5"}, "太高")
    assert "ratio" in fields_of(excinfo)
    db.session.rollback()
    assert db.session.scalar(select(func.count(CheckItemVersion.id))) == 1


def test_versions_are_immutable(ctx, department):
    item = ops.create_item(values(department))
    version = item.current
    version.ratio = Decimal("0.10")
    with pytest.raises(DomainError):
        db.session.flush()
    db.session.rollback()
    question = db.session.scalars(select(CheckQuestion)).first()
    question.text = "篡改"
    with pytest.raises(DomainError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(CheckQuestion)).first())
    with pytest.raises(DomainError):
        db.session.flush()
    db.session.rollback()
    assert ops.get_version(version.id).ratio == Decimal("0.05")


def test_get_version_and_current_versions(ctx, department):
    a = ops.create_item(values(department, code="A-01"))
    b = ops.create_item(values(department, code="B-01"))
    ops.revise_item(a, {"frequency": 2}, "两次")
    with pytest.raises(NotFound):
        ops.get_version(99999)
    current = ops.current_versions()
    assert [(v.item.code, v.number) for v in current] == [("A-01", 2), ("B-01", 1)]
    assert [v.item.code for v in ops.current_versions([b.id])] == ["B-01"]
    with pytest.raises(NotFound):
        ops.current_versions([b.id, 4242])


# ----------------------------------------------------------------------------- retirement
def test_retire_keeps_history_and_hides_from_active_items(ctx, department):
    a = ops.create_item(values(department, code="A-01"))
    b = ops.create_item(values(department, code="B-01"))
    ops.revise_item(a, {"frequency": 2}, "两次")
    with pytest.raises(ValidationFailed) as excinfo:
        ops.retire_item(a, " ")
    assert "reason" in fields_of(excinfo)
    ops.retire_item(a, "并入其他事项")
    assert [i.code for i in ops.active_items()] == ["B-01"]
    assert [v.item.code for v in ops.current_versions()] == ["B-01"]
    # still readable, with every version, also by id for a task that pinned it
    item = ops.get_item(a.id)
    assert item.status == "retired" and item.retire_reason == "并入其他事项"
    assert [v.number for v in item.versions] == [1, 2]
    assert [v.item.code for v in ops.current_versions([a.id])] == ["A-01"]
    with pytest.raises(Conflict):
        ops.retire_item(item, "again")
    with pytest.raises(Conflict):
        ops.revise_item(item, {"frequency": 3}, "x")
    ops.reinstate_item(item, "恢复")
    assert [i.code for i in ops.active_items()] == ["A-01", "B-01"]
    assert audit_actions()[-2:] == ["catalogue.item.retire", "catalogue.item.reinstate"]
    assert b.status == "active"


# ----------------------------------------------------------------------------- publication
def test_publish_records_versions_date_and_pending_state(ctx, department):
    assert ops.last_publication() is None
    with pytest.raises(ValidationFailed):
        ops.publish(date(2026, 1, 5))  # nothing to publish
    a = ops.create_item(values(department, code="A-01"))
    b = ops.create_item(values(department, code="B-01"))
    assert ops.has_unpublished_changes()
    pub = ops.publish(date(2026, 1, 5), note="年度清单")
    assert pub.published_on == date(2026, 1, 5) and pub.note == "年度清单"
    assert sorted(pub.version_ids) == sorted([a.current.id, b.current.id])
    assert not ops.has_unpublished_changes()
    assert audit_actions()[-1] == "catalogue.publish"
    with pytest.raises(Conflict):
        ops.publish(date(2026, 2, 1))  # nothing changed
    ops.revise_item(a, {"frequency": 2}, "两次")
    pending = ops.pending_changes()
    assert [v.item.code for v in pending.revised] == ["A-01"] and not pending.added
    ops.publish(date(2026, 3, 1))
    assert not ops.has_unpublished_changes()
    ops.retire_item(b, "停止")
    pending = ops.pending_changes()
    assert [v.item.code for v in pending.removed] == ["B-01"]
    with pytest.raises(ValidationFailed) as excinfo:
        ops.publish(date(2026, 2, 28))  # before the last publication
    assert "published_on" in fields_of(excinfo)


def test_publish_defaults_to_today_in_shanghai(ctx, department):
    ops.create_item(values(department))
    pub = ops.publish()
    assert pub.published_on == ops.local_today()


def test_published_catalogue_over_two_publications(ctx, department):
    a = ops.create_item(values(department, code="A-01"))
    b = ops.create_item(values(department, code="B-01"))
    v_a1 = a.current.id
    ops.publish(date(2026, 1, 5))
    ops.revise_item(a, {"ratio": "0.10"}, "提高比例")
    v_a2 = a.current.id
    ops.retire_item(b, "停止")
    c = ops.create_item(values(department, code="C-01"))
    ops.publish(date(2026, 6, 1))
    # changes after the second publication are not public
    ops.revise_item(c, {"frequency": 3}, "三次")

    assert ops.published_catalogue(date(2026, 1, 4)) == []
    first = ops.published_catalogue(date(2026, 1, 5))
    assert [(v.item.code, v.number) for v in first] == [("A-01", 1), ("B-01", 1)]
    assert first[0].id == v_a1
    assert [v.id for v in ops.published_catalogue(date(2026, 5, 31))] == [v.id for v in first]
    second = ops.published_catalogue(date(2026, 6, 1))
    assert [(v.item.code, v.number) for v in second] == [("A-01", 2), ("C-01", 1)]
    assert second[0].id == v_a2 and second[0].ratio == Decimal("0.10")
    assert [v.id for v in ops.published_catalogue(date(2030, 1, 1))] == [v.id for v in second]
    assert len(second[1].questions) == 2
    assert ops.has_unpublished_changes()


# ----------------------------------------------------------------------------- seed
def test_seed_catalogue_creates_the_eight_standard_items(ctx, department):
    core_ops.create_department("社会保险", "SHBX")
    items = seed_catalogue()
    assert [i.code for i in items] == [f"LR-0{n}" for n in range(1, 9)]
    for item in items:
        v = item.current
        assert v.number == 1 and len(v.questions) >= 4
        assert all(q.code == f"{item.code}-{n:02d}" for n, q in enumerate(v.questions, 1))
        assert all(q.legal_basis for q in v.questions)
        assert v.kind == "key" or v.ratio <= ops.GENERAL_RATIO_CAP
    assert {i.current.department.name for i in items} == {"劳动保障监察", "社会保险"}
    assert items[5].current.kind == "key"
    pubs = ops.publications()
    assert len(pubs) == 1 and pubs[0].published_on == DEMO_PUBLISHED_ON
    assert len(ops.published_catalogue(DEMO_PUBLISHED_ON)) == 8
    assert not ops.has_unpublished_changes()
    # running it again changes nothing
    seed_catalogue()
    assert db.session.scalar(select(func.count(CheckItemVersion.id))) == 8
    assert len(ops.publications()) == 1
    assert audit.verify()[1] is None
