"""The team draw through its operations: eligibility and exclusions, prepare/execute, joint
tasks, the record the public verifier checks, substitutions."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from inspection.core.errors import Conflict, PermissionDenied, ValidationFailed
from inspection.core.models import AuditEntry
from inspection.directory.inspectors import operations as inspector_ops
from inspection.directory.models import Inspector
from inspection.draws import commitments
from inspection.draws.engine import teams
from inspection.draws.models import (DrawSelection, InspectorExclusion, Substitution,
                                     TeamMember, TeamReserve)
from inspection.draws.team import eligibility as team_eligibility
from inspection.draws.team import operations as team_ops
from inspection.draws.team import queries as team_queries
from inspection.extensions import db
from inspection.planning.models import Task

from team_support import (approver, build_bureau, draw_teams, execute_team, make_inspector,
                          office, prepare_team, recusal_settings, task, visits)


def active(visit_id, department_id=None):
    query = select(TeamMember).where(TeamMember.visit_id == visit_id,
                                     TeamMember.replaced_at.is_(None))
    if department_id:
        query = query.where(TeamMember.department_id == department_id)
    return db.session.scalars(query.order_by(TeamMember.id)).all()


def test_team_draw_assigns_every_visit_and_verifies(app, department):
    with app.app_context():
        b = build_bureau(department, employers=4, lead_inspectors=5)
        draw = draw_teams(b)
        assert draw.status == "executed"
        assert commitments.verify_draw(draw) == []
        assert draw.record["kind"] == "team"
        pool = draw.record["results"][0]
        assert pool["pool"] == "inspectors" and len(pool["selected"]) == 5  # a permutation
        counts = {}
        for visit in visits(b):
            members = active(visit.id)
            assert len(members) == 2
            assert len({m.inspector_id for m in members}) == 2
            assert [m.is_leader for m in members] == [True, False]
            assert visit.status == "assigned"
            for m in members:
                counts[m.inspector_id] = counts.get(m.inspector_id, 0) + 1
            reserves = db.session.scalars(select(TeamReserve).where(
                TeamReserve.visit_id == visit.id).order_by(TeamReserve.rank)).all()
            assert len(reserves) == 3
            assert not {r.inspector_id for r in reserves} & {m.inspector_id for m in members}
        # 4 visits x 2 = 8 places among 5 inspectors: everybody 1 or 2
        assert sorted(counts.values()) == [1, 1, 2, 2, 2]   # balanced within one
        assert db.session.get(Task, b.task_id).status == "teams_drawn"
        sel = db.session.scalars(select(DrawSelection).where(
            DrawSelection.draw_id == draw.id)).all()
        assert all(s.inspector_id == team_queries.key_id(s.candidate) for s in sel)
        actions = [e.action for e in db.session.scalars(select(AuditEntry)
                                                         .order_by(AuditEntry.seq))]
        assert actions[-1] == "team.assign"
        assert "team.prepare" in actions


def test_exclusions_are_recorded_with_their_reasons(app, department):
    with app.app_context():
        b = build_bureau(department, employers=3, lead_inspectors=6)
        vs = visits(b)
        ids = b.inspectors[department]
        # a declared conflict with the first visit's employer
        conflicted = inspector_ops.get_inspector(ids[0])
        inspector_ops.declare_conflict(conflicted, vs[0].employer.credit_code, "relative",
                                       "兄弟在该单位工作", actor=office(b))
        # on leave; certificate ending before the window end
        on_leave = make_inspector(department, 90, status="on_leave")
        expiring = make_inspector(department, 91, cert_expires=date(2026, 5, 1))
        # another department and an expert: not in this department's staff pool at all
        make_inspector(b.social_id, 92)
        expert = make_inspector(department, 93, pool="expert")
        inspector_ops.confirm_current(office(b))
        draw = prepare_team(b).draw
        rows = db.session.scalars(select(InspectorExclusion).where(
            InspectorExclusion.draw_id == draw.id)).all()
        got = {(r.inspector_id, r.visit_id, r.reason) for r in rows}
        assert (ids[0], vs[0].id, "conflict") in got
        assert not any(r.inspector_id == ids[0] and r.visit_id != vs[0].id for r in rows)
        assert (on_leave, None, "not_available") in got
        assert all((expiring, v.id, "certificate_expired") in got for v in vs)
        assert not any(r.inspector_id == expert for r in rows)
        params = draw.commitment["parameters"]
        first = params["visits"][0]
        assert team_queries.inspector_key(ids[0]) not in first["eligible"]
        assert {"inspector": team_queries.inspector_key(ids[0]), "reasons": ["conflict"]} \
            in first["excluded"]
        assert team_queries.inspector_key(ids[0]) in params["visits"][1]["eligible"]
        pool_keys = {k for v in params["visits"] for k in v["eligible"]}
        assert team_queries.inspector_key(expiring) not in pool_keys
        assert team_queries.inspector_key(on_leave) not in pool_keys
        draw = execute_team(b, draw.id)
        assert ids[0] not in {m.inspector_id for m in active(vs[0].id)}
        assert ids[0] not in {r.inspector_id for r in db.session.scalars(
            select(TeamReserve).where(TeamReserve.visit_id == vs[0].id))}
        assert commitments.verify_draw(draw) == []


def test_optional_recusal_same_region_and_last_inspector(app, department):
    with app.app_context():
        b = build_bureau(department, employers=2, lead_inspectors=6)
        vs = visits(b)
        ids = b.inspectors[department]
        region = vs[0].employer.region_code
        same = [i for i in ids if inspector_ops.get_inspector(i).home_region_code == region]
        assert same
        with recusal_settings(RECUSE_SAME_REGION=True):
            found = team_eligibility.eligibility(task(b), task(b).lead_department, True)
        excluded = {i.id: r for i, r in found.visits[0].excluded}
        assert set(same) == set(excluded) and all(r == ["same_region"]
                                                  for r in excluded.values())
        # without the setting nobody is recused for the region
        found = team_eligibility.eligibility(task(b), task(b).lead_department, True)
        assert found.visits[0].excluded == []
        # last inspector: members of the employer's previous visit are recused
        draw_teams(b)
        from inspection.fieldwork.models import Visit
        later = Visit(number="2027-9999", year=2027, employer_id=vs[0].employer_id,
                      window_start=date(2027, 3, 1), window_end=date(2027, 4, 1))
        db.session.add(later)
        db.session.commit()
        before = {m.inspector_id for m in active(vs[0].id)}
        with recusal_settings(RECUSE_LAST_INSPECTOR=True):
            reasons = {i.id: team_eligibility.visit_reasons(i, later, later.employer)
                       for i in db.session.scalars(select(Inspector).where(
                           Inspector.department_id == department))}
        assert {i for i, r in reasons.items() if "last_inspector" in r} == before


def test_prepare_refuses_a_visit_without_enough_inspectors(app, department):
    with app.app_context():
        b = build_bureau(department, employers=2, lead_inspectors=2)
        vs = visits(b)
        inspector_ops.declare_conflict(inspector_ops.get_inspector(b.inspectors[department][1]),
                                       vs[1].employer.credit_code, "former_employer", "",
                                       actor=office(b))
        inspector_ops.confirm_current(office(b))
        with pytest.raises(ValidationFailed) as err:
            prepare_team(b)
        # the message names the short visit, its employer and the numbers (1 of 2, 1 short)
        assert vs[1].number in err.value.message and vs[1].employer.name in err.value.message
        assert re.search(r"\D1\D+2\D+1\D", err.value.message), err.value.message
        assert vs[0].number not in err.value.message
        assert len(err.value.fields["department_id"]) == 1
        db.session.rollback()
        assert team_queries.current_draw(task(b), department) is None


def test_prepare_needs_a_current_inspectors_directory_and_targets(app, department):
    with app.app_context():
        b = build_bureau(department, employers=2, lead_inspectors=3, confirm=False)
        with pytest.raises(Conflict):
            prepare_team(b)
        db.session.rollback()
        inspector_ops.confirm_current(office(b))
        prepared = prepare_team(b)
        with pytest.raises(Conflict) as err:
            prepare_team(b)
        assert prepared.draw.public_id in err.value.message
        db.session.rollback()
        execute_team(b, prepared.draw.id)
        with pytest.raises(Conflict):
            execute_team(b, prepared.draw.id)
        db.session.rollback()
        assert db.session.scalar(select(func.count(TeamMember.id))) == 4


def test_joint_task_draws_per_department_with_the_leader_from_the_lead(app, department):
    with app.app_context():
        b = build_bureau(department, employers=3, lead_inspectors=4, social_inspectors=2,
                         joint=True)
        depts = [d.id for d, _ in team_queries.task_departments(task(b))]
        assert depts == [department, b.social_id]
        social = draw_teams(b, b.social_id)
        assert social.commitment["parameters"]["required_per_visit"] == 1
        assert social.department_id == b.social_id
        # the lead department has not drawn yet: visits wait, nobody leads
        assert all(v.status == "planned" for v in visits(b))
        assert db.session.get(Task, b.task_id).status == "targets_drawn"
        lead = draw_teams(b, department)
        assert lead.commitment["parameters"]["required_per_visit"] == 2
        for visit in visits(b):
            members = active(visit.id)
            assert len(members) == 3
            leaders = [m for m in members if m.is_leader]
            assert len(leaders) == 1 and leaders[0].department_id == department
            assert leaders[0].draw_id == lead.id
            first = lead.record["assignment"][[e["visit"] for e in
                                               lead.record["assignment"]].index(visit.number)]
            assert team_queries.inspector_key(leaders[0].inspector_id) == first["team"][0]
            assert sum(m.department_id == b.social_id for m in members) == 1
            assert visit.status == "assigned"
        assert db.session.get(Task, b.task_id).status == "teams_drawn"
        assert commitments.verify_draw(social) == [] and commitments.verify_draw(lead) == []


def test_record_assignment_is_the_pure_assignment(app, department):
    with app.app_context():
        b = build_bureau(department, employers=3, lead_inspectors=4)
        draw = draw_teams(b)
        perm = draw.record["results"][0]["selected"]
        assert draw.record["assignment"] == teams.assign(
            perm, draw.commitment["parameters"]["visits"])


def _member(b, leader=True):
    visit = visits(b)[0]
    return next(m for m in active(visit.id) if m.is_leader == leader), visit


def test_substitution_by_reserve(app, department):
    with app.app_context():
        b = build_bureau(department, employers=2, lead_inspectors=5)
        draw = draw_teams(b)
        member, visit = _member(b)
        first_reserve = db.session.scalars(select(TeamReserve).where(
            TeamReserve.visit_id == visit.id).order_by(TeamReserve.rank)).first()
        sub = team_ops.request_substitution(member, "health", "住院", office(b))
        assert sub.status == "requested"
        team_ops.decide_substitution(sub, approve=True, mode="reserve", actor=approver(b))
        assert sub.status == "approved" and sub.replacement_id == first_reserve.inspector_id
        assert member.replaced_at is not None
        now = active(visit.id)
        assert first_reserve.inspector_id in {m.inspector_id for m in now}
        newcomer = next(m for m in now if m.inspector_id == first_reserve.inspector_id)
        assert newcomer.source == "reserve" and newcomer.is_leader   # takes the leader's place
        assert first_reserve.used_at is not None
        public = team_queries.public_substitutions(draw)
        assert public == [{"visit": visit.number,
                           "replaced": team_queries.inspector_key(member.inspector_id),
                           "replacement": team_queries.inspector_key(first_reserve.inspector_id),
                           "reason": "health", "mode": "reserve",
                           "approved_at": public[0]["approved_at"]}]
        assert team_queries.public_team_record(draw)["substitutions"] == public
        # the record and its verification are untouched by a substitution
        assert commitments.verify_draw(draw) == []
        actions = [e.action for e in db.session.scalars(select(AuditEntry)
                                                         .order_by(AuditEntry.seq))]
        assert actions[-2:] == ["team.substitution.request", "team.substitution.approve"]


def test_substitution_by_approver_choice(app, department):
    with app.app_context():
        b = build_bureau(department, employers=2, lead_inspectors=4)
        draw_teams(b)
        member, visit = _member(b, leader=False)
        extra = make_inspector(department, 77)
        qualified = {i.id for i in team_ops.qualified_replacements(member)}
        assert extra in qualified
        assert not qualified & {m.inspector_id for m in active(visit.id)}
        sub = team_ops.request_substitution(member, "schedule_conflict", "", office(b))
        team_ops_member = [m.inspector_id for m in active(visit.id) if m.id != member.id][0]
        with pytest.raises(ValidationFailed):   # somebody already on the team
            team_ops.decide_substitution(sub, approve=True, mode="approver_choice",
                                         replacement_id=team_ops_member, actor=approver(b))
        db.session.rollback()
        team_ops.decide_substitution(sub, approve=True, mode="approver_choice",
                                     replacement_id=extra, actor=approver(b))
        now = {m.inspector_id: m for m in active(visit.id)}
        assert extra in now and now[extra].source == "approver_choice"
        assert member.inspector_id not in now
        assert db.session.get(Substitution, sub.id).mode == "approver_choice"


def test_substitution_refused_without_reason_or_by_a_non_approver(app, department):
    with app.app_context():
        b = build_bureau(department, employers=2, lead_inspectors=4)
        draw_teams(b)
        member, _visit = _member(b)
        for reason in ("", "whim"):
            with pytest.raises(ValidationFailed):
                team_ops.request_substitution(member, reason, "想换人", office(b))
            db.session.rollback()
        with pytest.raises(PermissionDenied):  # an approver does not request
            team_ops.request_substitution(member, "health", "", approver(b))
        db.session.rollback()
        sub = team_ops.request_substitution(member, "recusal", "新发现亲属关系", office(b))
        with pytest.raises(PermissionDenied):
            team_ops.decide_substitution(sub, approve=True, mode="reserve", actor=office(b))
        db.session.rollback()
        team_ops.decide_substitution(sub, approve=False, note="理由不足", actor=approver(b))
        assert sub.status == "rejected" and member.replaced_at is None
        with pytest.raises(Conflict):
            team_ops.decide_substitution(sub, approve=True, mode="reserve", actor=approver(b))
        db.session.rollback()
        assert team_queries.public_substitutions(team_queries.get_draw(member.draw_id)) == []


def test_reserve_exhausted_asks_for_the_approvers_choice(app, department):
    with app.app_context():
        b = build_bureau(department, employers=1, lead_inspectors=2)
        draw_teams(b)
        member, _visit = _member(b)
        sub = team_ops.request_substitution(member, "post_change", "", office(b))
        with pytest.raises(Conflict) as err:
            team_ops.decide_substitution(sub, approve=True, mode="reserve", actor=approver(b))
        assert set(err.value.fields) == {"mode"}
        db.session.rollback()
        assert db.session.get(Substitution, sub.id).status == "requested"


def test_two_workers_execute_a_team_draw_at_once_one_result(app, department):
    import threading
    with app.app_context():
        b = build_bureau(department, employers=2, lead_inspectors=3)
        draw_id = prepare_team(b).draw.id
    barrier = threading.Barrier(2)
    outcomes = []

    def run(values):
        with app.app_context():
            try:
                barrier.wait()
                execute_team(b, draw_id, values=(values,))
                outcomes.append("executed")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(v,)) for v in ("1 2 3", "7 8 9")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "executed"]
    with app.app_context():
        assert db.session.scalar(select(func.count(TeamMember.id))) == 4
        assert db.session.scalar(select(func.count(TeamReserve.id))) == 2
        assert commitments.verify_draw(team_queries.get_draw(draw_id)) == []
