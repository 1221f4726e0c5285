"""The demo's results after the visit: records at every stage of the path, made through the
real operations only.

Each record is sent as the phone sends it (:func:`inspection.fieldwork.operations.put_photo`,
:func:`inspection.fieldwork.signing.put_signature` with drawn strokes rendered to PNG and SVG,
then :func:`inspection.fieldwork.operations.put_record_revision`: a draft save, then the
signed and sealed save); the office and the approvers then act through
:mod:`inspection.review.operations`. Four eyes hold: the office user ``office`` proposes,
``approver`` (head, 负责人) or ``director`` (principal head, 主要负责人) decides, and none of
them was on a team.

The stages (:data:`STORIES`, one visit each):

* sealed and waiting for the office's review (``recorded``);
* returned to the team with comments, on a visit of ``inspector1`` and their partner, so
  that it shows on inspector1's phone (``returned``);
* two determinations waiting for an approver (``proposed``);
* approved and waiting for publication (``determined``): one whose publication deadline has
  passed, one whose record notes a refusal to sign;
* published, with an objection from the public under review (``published``);
* published, then corrected by the bureau with the principal head's approval.

Apart from the returned one, the visits are those of the first teams of the drawn task on
which nobody has an account yet: their members get the accounts ``inspector4``,
``inspector5`` ... (:func:`_colleagues`), so that two accounts sign each record. inspector1's
other visits stay untouched for the field app's walk-through.

Everything is dated from ``today`` (arrivals on site some working days back, inside the
task's window) and deterministic apart from it: keys are UUIDv5 of the visit number,
drawings and photos are computed from fixed seeds. (Which employers were drawn depends on the
draw's secrets, generated afresh by each seed.)
"""
from __future__ import annotations

import base64
import hashlib
import io
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from ..core import operations as core_ops
from ..core.authority import Act, may_approve
from ..core.models import Role, User
from ..core.passwords import DEMO_PASSWORD
from ..core.workdays import UnknownCalendarYear, deadline_info, is_workday
from ..directory.models import Inspector
from ..draws.team import queries as team_queries
from ..extensions import db
from ..fieldwork import joint, seal
from ..fieldwork import operations as field_ops
from ..fieldwork import signing
from ..fieldwork.models import Visit, VisitStatus, VisitTask
from ..fieldwork.visits import checked_versions
from . import operations as ops
from .models import CorrectionOrigin, FeedbackWay

#: The namespace of the demo's client keys (UUIDv5 of the visit number and what it names).
NAMESPACE = uuid.UUID("6f1c2a4e-5b7d-4e0a-9c3f-2d8e1b6a7c90")
#: The first number of the accounts made for team members (inspector1-3 exist already).
FIRST_COLLEAGUE = 4
#: A public objection's address, from the documentation range (RFC 5737).
PUBLIC_ADDRESS = "203.0.113.25"
#: The signing pad's size in CSS pixels (the PNG is drawn at this size).
PAD_W, PAD_H = 480, 180


@dataclass(frozen=True)
class Problem:
    """A non-compliant answer: its note, and an order to rectify within ``due_days`` of the
    visit (None: no order, followed up later)."""

    question: str
    note: str
    due_days: int | None = None
    order: str = ""


@dataclass(frozen=True)
class Story:
    """One visit of the demo: what the inspectors found and how far it got after the visit."""

    stage: str
    days_ago: int
    category: str
    problems: tuple[Problem, ...] = ()
    not_applicable: tuple[str, ...] = ()
    refusal: dict | None = None
    #: The office's result, when it differs from the on-site one (the corrected story).
    determined: str | None = None
    extra: dict = field(default_factory=dict)


STORIES: tuple[Story, ...] = (
    Story("corrected", 40, "rectification_ordered", (
        Problem("LR-06-02", "抽查3名劳动者工资发放记录，均未向劳动者提供个人工资清单。", 15,
                "自即日起每月发放工资时向劳动者提供个人工资清单，并于限期内补齐近3个月清单。"),),
        not_applicable=("LR-02-03",), determined="unqualified",
        extra={"correction": "结果类别误录为“不合格”。检查记录载明发现问题已当场责令限期改正，"
                             "应认定为“发现问题已责令改正”，经复核予以更正（种子004第二十一条）。"}),
    Story("determined_overdue", 33, "rectification_ordered", (
        Problem("LR-02-02", "2名生产岗位劳动者入职已满两个月，仍未订立书面劳动合同。", 10,
                "限期与上述2名劳动者订立书面劳动合同，并将合同文本交付劳动者本人。"),),
        not_applicable=("LR-02-07",)),
    Story("published", 19, "rectification_ordered", (
        Problem("LR-06-05", "9月有4个休息日安排加班，既未安排补休，也未按不低于工资的200%支付加班工资。",
                20, "限期按规定补发休息日加班工资，并将补发记录报送劳动保障监察机构。"),),
        extra={"objection": "我单位已于检查后第三天补发全部休息日加班工资，银行代发记录可以提供，"
                            "请求复核并更正检查结果。"}),
    Story("determined", 12, "pending_follow_up", (
        Problem("LR-06-01", "工资发放表显示10月工资延至次月20日才发放，超过约定的发放日期，需进一步调查核实。"),),
        refusal={"reason": "refused_to_sign",
                 "explanation": "检查结束后向单位负责人宣读检查记录，负责人以需请示总公司为由拒绝签字。"
                                "检查人员当场说明拒签的后果，对现场拍照固定，并请在场职工见证。",
                 "witness": "周建华"}),
    Story("proposed", 8, "rectification_ordered", (
        Problem("LR-06-04", "当地最低工资标准调整后，单位未在十日内向全体劳动者公示。", 7,
                "限期在厂区公告栏及职工群公示现行最低工资标准，并拍照留存。"),)),
    Story("proposed", 6, "no_problem", not_applicable=("LR-02-03", "LR-02-07")),
    Story("recorded", 2, "no_problem", not_applicable=("LR-02-07",)),
)
#: inspector1's visit returned to the team (on the phone): the record and the office's words.
RETURNED = Story("returned", 5, "no_problem", not_applicable=("LR-02-03",), extra={
    "comments": "检查记录中工资支付部分缺少佐证材料，请补充后重新签名封存。",
    "item_comments": [("LR-06", "LR-06-03", "结论为“符合”，但未附工资表或银行代发记录照片，"
                                           "无法核对是否低于最低工资标准，请补拍10月工资表。")]})
#: Working days from the start of the overdue result's publication clock to today, at least.
OVERDUE_BY = 12


def _key(number: str, what: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{number}/{what}"))


def _stamp(day: date, at: time) -> str:
    return datetime.combine(day, at).isoformat() + "+08:00"


def _workday_on_or_before(day: date) -> date:
    for _n in range(15):
        try:
            if is_workday(day):
                return day
        except UnknownCalendarYear:
            if day.weekday() < 5:
                return day
        day -= timedelta(days=1)
    return day


def visit_day(today: date, days_ago: int, window_start: date) -> date:
    """The day of the visit: a working day about ``days_ago`` days back, inside the window."""
    return max(window_start, _workday_on_or_before(today - timedelta(days=days_ago)))


# --- drawings ---------------------------------------------------------------------------------

def strokes_of(name: str, t0: int) -> list[dict]:
    """A signature as signature_pad's ``toData()`` records it: per character of ``name`` a
    quick first stroke and a cursive body, then a flourish under the name; the points' times
    in milliseconds from ``t0``. Deterministic for a name."""
    out: list[dict] = []
    t = t0

    def add(points) -> None:
        nonlocal t
        drawn = []
        for x, y in points:
            drawn.append({"x": round(x, 1), "y": round(y, 1), "time": t, "pressure": 0.5})
            t += 16
        out.append({"penColor": "#000", "dotSize": 0, "minWidth": 1, "maxWidth": 3.2,
                    "velocityFilterWeight": 0.7, "compositeOperation": "source-over",
                    "points": drawn})
        t += 220

    chars = max(2, min(len(name), 4))
    cell = (PAD_W - 80) / chars
    for n in range(chars):
        rng = random.Random(f"{name}/{n}")
        x0, y0 = 40 + n * cell, PAD_H * 0.45 + rng.uniform(-8, 8)
        add([(x0 + cell * (0.15 + 0.5 * i / 7), y0 - 30 + rng.uniform(-2, 2) + i * 1.5)
             for i in range(8)])
        f1, f2 = rng.choice((1.0, 1.5, 2.0)), rng.choice((2.0, 2.5, 3.0))
        p1, p2 = rng.uniform(0, math.pi), rng.uniform(0, math.pi)
        a, b = cell * rng.uniform(0.12, 0.2), rng.uniform(18, 30)
        add([(x0 + cell * (0.1 + 0.75 * i / 29) + a * math.sin(2 * math.pi * f1 * i / 29 + p1),
              y0 + b * math.sin(2 * math.pi * f2 * i / 29 + p2) + 8 * i / 29)
             for i in range(30)])
    rng = random.Random(f"{name}/flourish")
    add([(40 + (PAD_W - 90) * i / 19, PAD_H * 0.78 + 10 * math.sin(i / 3 + rng.random()) - i * 0.8)
         for i in range(20)])
    return out


def png_of(strokes: list[dict]) -> bytes:
    img = Image.new("RGBA", (PAD_W, PAD_H), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    for stroke in strokes:
        draw.line([(p["x"], p["y"]) for p in stroke["points"]], fill=(0, 0, 0, 255), width=3,
                  joint="curve")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def svg_of(strokes: list[dict]) -> str:
    paths = "".join(
        '<path d="M' + " L".join(f'{p["x"]} {p["y"]}' for p in stroke["points"])
        + '" fill="none" stroke="#000" stroke-width="2.5" stroke-linecap="round"/>'
        for stroke in strokes)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {PAD_W} {PAD_H}" '
            f'width="{PAD_W}" height="{PAD_H}">{paths}</svg>')


def photo_of(seed: str, lines: int = 14) -> bytes:
    """A photo-like JPEG of a document on a desk (a ledger's lines, a red seal)."""
    rng = random.Random(seed)
    img = Image.new("RGB", (1200, 900), (rng.randrange(90, 130), rng.randrange(70, 100), 60))
    draw = ImageDraw.Draw(img)
    left, top = rng.randrange(120, 200), rng.randrange(60, 110)
    draw.rectangle([left, top, left + 820, top + 760], fill=(246, 244, 236))
    draw.rectangle([left + 40, top + 40, left + 780, top + 90], fill=(60, 60, 70))
    for n in range(lines):
        y = top + 130 + n * 42
        width = rng.randrange(380, 720)
        draw.line([left + 40, y, left + 40 + width, y], fill=(40, 40, 40), width=3)
        for col in range(1, 5):
            draw.line([left + 40 + col * 150, y - 14, left + 40 + col * 150, y + 14],
                      fill=(150, 150, 150), width=1)
    cx, cy = left + 620, top + 600
    draw.ellipse([cx - 80, cy - 80, cx + 80, cy + 80], outline=(200, 30, 30), width=8)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def scene_of(seed: str) -> bytes:
    """A photo-like JPEG of the premises (a building's front, its door and windows)."""
    rng = random.Random(seed)
    img = Image.new("RGB", (1200, 900), (150 + rng.randrange(40), 185, 215))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 640, 1200, 900], fill=(95, 95, 90))
    left = rng.randrange(120, 260)
    draw.rectangle([left, 170, left + 760, 660], fill=(205, 196, 178))
    draw.rectangle([left + 300, 90, left + 460, 150], fill=(170, 30, 30))
    for row in range(3):
        for col in range(5):
            x, y = left + 50 + col * 140, 220 + row * 120
            draw.rectangle([x, y, x + 90, y + 70], fill=(70, 95, 120))
    draw.rectangle([left + 320, 540, left + 440, 660], fill=(60, 50, 45))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- who -------------------------------------------------------------------------------------

def _accounts(visit: Visit) -> list[User]:
    """The accounts of the visit's active team, in team order."""
    ids = [m.inspector_id for m in team_queries.members_of(visit)]
    people = team_queries.inspectors_by_id(ids)
    return [db.session.get(User, people[i].user_id) for i in ids if people[i].user_id]


def _colleagues(visits: list[Visit], wanted: int) -> list[Visit]:
    """Up to ``wanted`` of ``visits`` (in order) whose teams had no account, giving the
    members of those teams accounts (inspector4, inspector5 ...), team by team as needed."""
    admin = core_ops.find_user("admin")
    teams: dict[tuple[int, ...], list[Visit]] = {}
    for visit in visits:
        members = team_queries.members_of(visit)
        people = team_queries.inspectors_by_id(m.inspector_id for m in members)
        if len(members) < 2 or any(people[m.inspector_id].user_id for m in members):
            continue
        if joint.department_parts(visit) is not None:
            continue
        teams.setdefault(tuple(m.inspector_id for m in members), []).append(visit)
    chosen: list[Visit] = []
    number = FIRST_COLLEAGUE
    for team, team_visits in teams.items():
        if len(chosen) >= wanted:
            break
        for inspector_id in team:
            inspector = db.session.get(Inspector, inspector_id)
            while core_ops.find_user(f"inspector{number}") is not None:
                number += 1
            username = f"inspector{number}"
            user = core_ops.create_user(username, inspector.name, inspector.department,
                                        [Role.INSPECTOR], DEMO_PASSWORD)
            core_ops.update_user(user, display_name=user.display_name,
                                 department=user.department, roles=user.roles, actor=admin,
                                 email=f"{username}@example.invalid")
            inspector.user_id = user.id
            db.session.commit()
        chosen += team_visits[:wanted - len(chosen)]
    return chosen


# --- the record, as the phone sends it -------------------------------------------------------

def _answers(visit: Visit, story: Story, day: date) -> list[dict]:
    problems = {p.question: p for p in story.problems}
    out = []
    for version, code in checked_versions(visit.id):
        for question in version.questions:
            problem = problems.get(question.code)
            if problem is not None:
                order = None
                if problem.due_days is not None:
                    order = {"kind": "rectify",
                             "due": (day + timedelta(days=problem.due_days)).isoformat(),
                             "text": problem.order}
                out.append({"item": code, "question": question.code, "answer": "non_compliant",
                            "note": problem.note, "order": order})
            elif question.code in story.not_applicable:
                out.append({"item": code, "question": question.code,
                            "answer": "not_applicable", "note": "本单位无此情形。", "order": None})
            else:
                out.append({"item": code, "question": question.code, "answer": "compliant",
                            "note": "", "order": None})
    return out


def _photos(user: User, visit: Visit, story: Story, day: date) -> list[dict]:
    """Evidence photos of the problems (and the scene of a refusal), uploaded first."""
    wanted = [(p.question, True) for p in story.problems]
    if story.refusal:
        wanted.append((None, False))
    refs = []
    for n, (question, document) in enumerate(wanted):
        key = _key(visit.number, f"photo/{n}")
        data = photo_of(key) if document else scene_of(key)
        sha = _sha(data)
        taken = _stamp(day, time(9, 50 + 5 * n))
        field_ops.put_photo(user, key, data, visit_number=visit.number, content_sha256=sha,
                            original_sha256=sha, question=question, document_copy=document,
                            taken_at=taken)
        refs.append({"uuid": key, "sha256": sha, "original_sha256": sha, "question": question,
                     "document_copy": document, "taken_at": taken, "bytes": len(data)})
    return refs


def _sign(user: User, body: dict, signers: list[tuple[dict, str]], day: date) -> list[dict]:
    """Each signer draws their signature on the pad; each is uploaded; the refs to list."""
    content = seal.content_hash(body)
    refs = []
    for n, (signer, name) in enumerate(signers):
        key = _key(body["visit"], f"signature/{n}")
        signed_at = _stamp(day, time(11, 5 + 2 * n))
        moment = datetime.fromisoformat(signed_at)
        drawn = strokes_of(name, int(moment.timestamp() * 1000))
        png, svg = png_of(drawn), svg_of(drawn)
        upload = {"visit": body["visit"], "signer": signer, "signs": content,
                  "signed_at": signed_at, "strokes": drawn,
                  "strokes_sha256": _sha(seal.canonical(drawn)), "svg": svg,
                  "svg_sha256": _sha(svg.encode()), "png": base64.b64encode(png).decode(),
                  "png_sha256": _sha(png)}
        signing.put_signature(user, key, upload)
        refs.append({"uuid": key, "signer": signer, "signs": content, "signed_at": signed_at,
                     "strokes_sha256": upload["strokes_sha256"],
                     "svg_sha256": upload["svg_sha256"], "png_sha256": upload["png_sha256"]})
    return refs


def send_record(visit: Visit, story: Story, day: date, phone: User | None = None) -> None:
    """The team's record of the visit: a draft save, then signed by two inspectors and the
    representative (or, on a refusal, by a witness) and sealed, as the phone sends it (the
    phone of ``phone`` when on the team, else of the first account of the team)."""
    team = _accounts(visit)
    if phone is not None and phone in team:
        team.remove(phone)
        team.insert(0, phone)
    user = team[0]
    number = visit.number
    location = {"lat": round(36.80 + (int(_sha(number.encode())[:4], 16) % 400) / 10000, 5),
                "lon": round(118.03 + (int(_sha(number.encode())[4:8], 16) % 500) / 10000, 5),
                "accuracy": 12.0}
    photos = _photos(user, visit, story, day)
    body = {"record_id": _key(number, "record"), "revision": 1, "visit": number,
            "saved_at": _stamp(day, time(10, 40)), "notice": None,
            "arrival": {"at": _stamp(day, time(9, 30)), "location": location},
            "answers": _answers(visit, story, day), "result_category": story.category,
            "photos": photos}
    signers: list[tuple[dict, str]] = [({"kind": "inspector", "user_id": u.id}, u.display_name)
                                       for u in team[:2]]
    if story.refusal:
        witness = story.refusal["witness"]
        body["refusal"] = {"reason": story.refusal["reason"],
                           "explanation": story.refusal["explanation"],
                           "witnesses": [{"name": witness}],
                           "photos": [p["uuid"] for p in photos if p["question"] is None]}
        signers.append(({"kind": "witness", "name": witness}, witness))
    else:
        name = (visit.employer.legal_representative or "").strip()[:50] or "王经理"
        signers.append(({"kind": "representative", "name": name,
                         "role": "legal_representative"}, name))
    field_ops.put_record_revision(user, _key(number, "revision/1"), body)
    sealed = dict(body, revision=2, saved_at=_stamp(day, time(11, 20)))
    sealed["signatures"] = _sign(user, sealed, signers, day)
    sealed["seal"] = seal.seal_of(sealed)
    field_ops.put_record_revision(user, _key(number, "revision/2"), sealed)


# --- after the visit ---------------------------------------------------------------------------

def _findings(story: Story, day: date, category: str) -> list[dict]:
    if category in ("no_problem", "qualified"):
        return []
    out = []
    for p in story.problems:
        item = p.question.rsplit("-", 1)[0]
        if p.due_days is not None:
            out.append({"item": item, "question": p.question, "finding": p.note,
                        "handling": "rectification_order",
                        "due": day + timedelta(days=p.due_days), "note": p.order})
        else:
            out.append({"item": item, "question": p.question, "finding": p.note,
                        "handling": "follow_up", "note": "移交案件承办人员进一步调查。"})
    return out


SUMMARIES = {
    "no_problem": "检查记录完整，各检查事项均符合规定，认定未发现问题。",
    "rectification_ordered": "检查发现的问题已当场责令限期改正，认定发现问题已责令改正。",
    "pending_follow_up": "发现涉嫌拖欠工资的问题，单位负责人拒绝在检查记录上签字，已固定现场证据，"
                         "认定发现问题待后续处理。",
    "unqualified": "检查发现问题，认定不合格。",
}


def _overdue(visit: Visit, today: date) -> None:
    """Move the start of the visit's publication clock back so that its deadline has passed.

    Demo data only: the operations count the clock from the day of the approval, and the
    demo's whole history is made on the day it is seeded. The office's list needs one result
    whose publication is late, so this row's clock starts :data:`OVERDUE_BY` working days ago
    and its deadline is counted again from there, through the same working-day module. The
    audit trail keeps what the operation recorded."""
    publication = ops.publication_of(visit)
    start = today
    for _n in range(OVERDUE_BY):
        start = _workday_on_or_before(start - timedelta(days=1))
    info = deadline_info(start, publication.workdays)
    publication.clock_start = start
    publication.deadline = info["deadline"]
    publication.deadline_year = info["missing_year"]
    db.session.commit()


def _decider(act: Act, visit: Visit, *candidates: User | None) -> User | None:
    """The first of ``candidates`` whom the bureau's settings let decide ``act`` for the
    visit (None: nobody among them; the proposal then waits)."""
    department_id = ops.lead_department_id(visit)
    return next((u for u in candidates if may_approve(u, act, department_id)), None)


def after_visit(visit: Visit, story: Story, day: date, today: date, people: dict) -> None:
    """The steps of ``story.stage`` after the sealed record arrived."""
    office, approver, director = people["office"], people["approver"], people["director"]
    number = visit.number
    if story.stage == "recorded":
        return
    if story.stage == "returned":
        ops.return_record(number, story.extra["comments"],
                          [{"item": i, "question": q, "comment": c}
                           for i, q, c in story.extra["item_comments"]], actor=office)
        return
    category = story.determined or story.category
    det = ops.propose_determination(number, category, _findings(story, day, category),
                                    SUMMARIES[category], actor=office,
                                    request_key=_key(number, "determination"))
    if story.stage == "proposed":
        return
    decider = _decider(Act.DETERMINATION, visit,
                       *((director, approver) if story.stage == "determined"
                         else (approver, director)))
    if decider is None:
        return
    ops.decide_determination(det.id, True, "同意。", actor=decider)
    if story.stage == "determined_overdue":
        _overdue(visit, today)
    if story.stage in ("determined", "determined_overdue"):
        return
    ops.publish(number, actor=office)
    opens = ops.feedback_deadline(visit)["opens"]
    if opens is not None and opens <= today:  # (under publish_first, after the period)
        ops.record_feedback(number, FeedbackWay.PHONE.value, today,
                            "电话告知单位法定代表人检查结果及整改要求。", actor=office)
    if story.stage == "published":
        ops.submit_objection(number, visit.employer.credit_code, "0533-7180000（办公室）",
                             story.extra["objection"], source="public",
                             client_address=PUBLIC_ADDRESS,
                             request_key=_key(number, "objection"))
    elif story.stage == "corrected":
        category = story.category
        correction = ops.propose_correction(
            number, CorrectionOrigin.BUREAU.value, story.extra["correction"], category,
            _findings(story, day, category), SUMMARIES[category], actor=office)
        decider = _decider(Act.CORRECTION, visit, director, approver)
        if decider is not None:
            ops.decide_correction(correction.id, True, "同意更正。", actor=decider)


# --- the seed ----------------------------------------------------------------------------------

def _task_visits(task_id: int) -> list[Visit]:
    return list(db.session.scalars(
        select(Visit).join(VisitTask, VisitTask.visit_id == Visit.id)
        .where(VisitTask.task_id == task_id, Visit.status == VisitStatus.ASSIGNED.value)
        .order_by(Visit.number)))


def seed_review(today: date, task=None) -> dict[str, list[str]]:
    """Records at every stage after the visit, dated from ``today``, on the visits of
    ``task`` (default: the task whose teams were drawn first). Returns the visit numbers by
    stage. Does nothing when a sealed record exists already."""
    from ..fieldwork.models import RecordRevision
    from ..planning.models import Task, TaskStatus

    if db.session.scalar(select(RecordRevision.id).where(RecordRevision.seal.is_not(None))
                         .limit(1)) is not None:
        return {}
    if task is None:
        task = db.session.scalar(select(Task).where(Task.status == TaskStatus.TEAMS_DRAWN.value)
                                 .order_by(Task.id).limit(1))
    if task is None:
        return {}
    people = {name: core_ops.find_user(name) for name in ("office", "approver", "director")}
    me = core_ops.find_user("inspector1")
    stages: dict[str, list[str]] = {}
    plan: list[tuple[Visit, Story]] = []
    # inspector1's visits with a second account on the team; the first stays to be tried.
    mine = [a.visit for a in team_queries.my_visits(me)] if me else []
    shared = [v for v in mine if v.status == VisitStatus.ASSIGNED.value
              and len(_accounts(v)) >= 2 and joint.department_parts(v) is None]
    if len(shared) >= 2:
        plan.append((shared[1], RETURNED))
    taken = {v.id for v in mine}
    others = [v for v in _task_visits(task.id) if v.id not in taken]
    for visit, story in zip(_colleagues(others, len(STORIES)), STORIES):
        plan.append((visit, story))
    for visit, story in plan:
        day = visit_day(today, story.days_ago, visit.window_start)
        send_record(visit, story, day, phone=me)
        after_visit(visit, story, day, today, people)
        stages.setdefault(story.stage, []).append(visit.number)
    return stages
