"""The demo bureau's plan of the current year and its three tasks, dated from the day the demo
is seeded: the plan in force for this year, and tasks whose date windows include today, so
that whoever tries the demo finds work to do now (not a campaign that ended months ago).
Deterministic apart from today's date, and safe to run again (an existing plan of the year
and tasks of the same names are kept).

Needs the core demo (departments, the users ``office`` and ``approver``) and the catalogue
(:func:`inspection.catalogue.demo.seed_catalogue`) first; the catalogue is published before
the tasks (seed 004 第二条 "事先公布的抽查事项清单"): :func:`catalogue_published_on`.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from ..catalogue import operations as catalogue_ops
from ..core import operations as core_ops
from ..directory.models import Region
from ..extensions import db
from . import operations as ops
from .models import AnnualPlan, PlanStatus, Task, TaskStatus

#: The directed demo task looks at one street: 辛店街道.
DEMO_REGION = "370305003"
#: Days before and after today of each task's window (clamped to the plan's year):
#: wages (the task whose draws the demo runs), joint, directed.
WINDOWS = {"wages": (60, 20), "joint": (30, 40), "directed": (7, 50)}


def demo_today() -> date:
    """Today in Asia/Shanghai: the day everything in the demo is dated from."""
    return ops.local_today()


def task_window(today: date, name: str) -> tuple[date, date]:
    """The window of the demo task ``name`` (a key of :data:`WINDOWS`): from some days before
    today to some days after, inside today's year (a task's window lies inside its plan's
    year), so it always includes today."""
    before, after = WINDOWS[name]
    first, last = date(today.year, 1, 1), date(today.year, 12, 31)
    return max(first, today - timedelta(days=before)), min(last, today + timedelta(days=after))


def _first_start(today: date) -> date:
    return min(task_window(today, name)[0] for name in WINDOWS)


def catalogue_published_on(today: date) -> date:
    """When the demo's item list was published: 5 January, or earlier when a task starts
    sooner (in the first weeks of a year, the end of the year before)."""
    return min(date(today.year, 1, 5), _first_start(today) - timedelta(days=2))


def plan_published_on(today: date) -> date:
    """When the demo's plan was published: 10 January, or the day before the first task
    starts when that is sooner (never after the catalogue it relies on)."""
    return min(date(today.year, 1, 10), _first_start(today) - timedelta(days=1))


def plan_values(year: int) -> dict:
    return {
        "year": year,
        "title": f"{year}年度劳动保障监察“双随机、一公开”抽查工作计划",
        "scope": "本区行政区域内的用人单位：企业、个体经济组织、民办非企业单位，以及职业介绍、职业技能"
                 "培训和职业技能考核鉴定机构。抽查事项以公布的随机抽查事项清单为准，清单以外不得检查。",
        "inspector_requirements": "持有行政执法证或劳动保障监察员证且在有效期内的执法人员；每户检查不少于"
                                  "2人；与检查对象有利害关系的应当回避。",
        "grade_rules": {"A": {"ratio": "0.01", "frequency": 1},
                        "B": {"ratio": "0.03", "frequency": 1},
                        "C": {"ratio": "0.10", "frequency": 2},
                        "D": {"ratio": "0.20", "frequency": 3}},
        "yearly_cap": 2,
        "schedule": "年初公布计划；工资支付专项抽查、社会保险与劳动用工联合抽查和较高风险用人单位定向抽查"
                    "按各任务实施方案的时间安排进行；12月30日前完成全年任务并公示结果。",
        "procedure": "制定抽查方案 → 确认名录库 → 随机抽取检查对象 → 随机选派执法人员 → 实施检查 → "
                     "结果认定与审核 → 20个工作日内公示结果 → 后续处理与归档。",
    }


def _item_ids(*codes: str) -> list[int]:
    return [catalogue_ops.get_item_by_code(code).id for code in codes]


def _plan(year: int, published_on: date, office, approver) -> AnnualPlan:
    plan = ops.plan_in_force(year)
    if plan is not None:
        return plan
    plan = db.session.scalar(select(AnnualPlan).where(AnnualPlan.year == year)
                             .order_by(AnnualPlan.revision.desc()).limit(1))
    if plan is None:
        plan = ops.create_plan(plan_values(year), actor=office)
    if plan.status == PlanStatus.DRAFT.value:
        ops.submit_plan(plan, actor=office)
    if plan.status == PlanStatus.SUBMITTED.value:
        ops.approve_plan(plan, actor=approver, note="同意。")
    ops.publish_plan(plan, published_on, actor=approver)
    return plan


def _task(values: dict, office, approver, approve: bool) -> Task:
    task = db.session.scalar(select(Task).where(Task.name == values["name"]))
    if task is None:
        task = ops.create_task(values, actor=office)
    if approve and task.status == TaskStatus.DRAFT.value:
        ops.submit_task(task, actor=office)
    if approve and task.status == TaskStatus.SUBMITTED.value:
        ops.approve_task(task, actor=approver, note="同意实施。")
    return task


def seed_planning(today: date | None = None) -> list[Task]:
    """This year's plan (approved, published on :func:`plan_published_on`) and the three demo
    tasks, whose windows include ``today`` (default: today in Asia/Shanghai)."""
    today = today or demo_today()
    year = today.year
    office = core_ops.find_user("office")
    approver = core_ops.find_user("approver")
    plan = _plan(year, plan_published_on(today), office, approver)
    lsjc = core_ops.get_department("劳动保障监察")
    shbx = core_ops.get_department("社会保险")
    if db.session.get(Region, DEMO_REGION) is None:
        from ..directory.employers.demo import seed_regions
        seed_regions()
    start, end = task_window(today, "wages")
    wages = _task({
        "plan_id": plan.id, "name": f"{year}年工资支付专项随机抽查",
        "description": "重点检查工资支付和农民工工资专用账户、实名制管理等制度落实情况。",
        "lead_department_id": lsjc.id, "department_ids": [lsjc.id],
        "item_ids": _item_ids("LR-06", "LR-02"), "task_type": "undirected", "method": "on_site",
        "window_start": start, "window_end": end, "announced": True,
        "inspectors_per_visit": 2,
        "grade_ratios": {"A": "0.01", "B": "0.03", "C": "0.15", "D": "0.30"},
    }, office, approver, approve=True)
    start, end = task_window(today, "joint")
    joint = _task({
        "plan_id": plan.id, "name": f"{year}年社会保险与劳动用工联合抽查",
        "description": "劳动保障监察牵头，社会保险部门参与，对同一用人单位的多个事项一次性完成检查。",
        "lead_department_id": lsjc.id, "department_ids": [lsjc.id, shbx.id],
        "item_ids": _item_ids("LR-02", "LR-07"), "task_type": "undirected", "method": "on_site",
        # Unannounced: its draws, once the office makes them, show what the public may not
        # see before the visits (seed 004 第十九条(二)); the wages task's draws, announced,
        # are published in full and can be re-run by anyone at once.
        "window_start": start, "window_end": end, "announced": False,
        "inspectors_per_visit": 2,
    }, office, approver, approve=True)
    start, end = task_window(today, "directed")
    directed = _task({
        "plan_id": plan.id, "name": f"{year}年辛店街道较高风险用人单位定向抽查",
        "description": "对辛店街道信用风险等级为C、D级的用人单位开展定向抽查。",
        "lead_department_id": lsjc.id, "department_ids": [lsjc.id],
        "item_ids": _item_ids("LR-01", "LR-03"), "task_type": "directed",
        "filters": {"regions": [DEMO_REGION], "grades": ["C", "D"]}, "method": "on_site",
        "window_start": start, "window_end": end, "announced": True,
        "inspectors_per_visit": 3,
    }, office, approver, approve=False)
    return [wages, joint, directed]
