"""Demo inspectors for the demo bureau: ``seed_inspectors()`` after the core and employer seeds.

Deterministic for a given seed and day: the same names, numbers, statuses and conflicts every
run (expiry dates are relative to today so that "expired" and "expiring" stay true).
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from ...core import operations as core_ops
from ...core.errors import NotFound
from ...extensions import db
from ..models import Employer, Inspector, Region
from . import operations as ops

#: department code -> how many inspectors (the linked demo users included)
PLAN = (("LSJC", 14), ("SHBX", 7), ("JY", 5), ("RLZY", 4))

#: demo username -> department code; each gets an inspector record under their own name
LINKED_USERS = (("inspector1", "LSJC"), ("inspector2", "SHBX"), ("leader", "LSJC"))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史"
GIVEN = ("建华", "秀英", "志明", "丽娟", "海涛", "晓燕", "国强", "春梅", "文博", "雪梅", "俊杰",
         "玉兰", "德胜", "静怡", "振宇", "桂芳", "立新", "慧敏", "宏伟", "艳红", "子豪", "梦洁",
         "庆华", "淑珍", "永刚", "佳琪", "明辉", "红霞", "鹏飞", "婷婷", "兆军", "晓峰", "凤英",
         "家乐", "思远", "雅琴")

DEPARTMENT_TAGS = {
    "LSJC": ("wages", "minimum_wage", "labour_contracts", "working_hours", "child_labour",
             "women_minors", "labour_dispatch", "occupational_safety"),
    "SHBX": ("social_insurance", "wages", "labour_contracts"),
    "JY": ("employment", "hr_services", "vocational_training", "labour_dispatch"),
    "RLZY": ("hr_services", "vocational_training", "labour_contracts", "social_insurance"),
}

QUALIFICATIONS = ("劳动保障监察员资格", "行政执法资格，法律职业资格", "劳动保障监察员资格，三年以上执法经历",
                  "行政执法资格")
CONFLICT_NOTES = {
    "relative": "配偶在该单位财务部门任职，本人书面申报",
    "former_employer": "2019 年前曾在该单位人事部门工作",
    "shareholding": "通过亲属持有该单位少量股份",
    "other": "与该单位负责人系同学关系，主动申报回避",
}


def _name(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name not in taken:
            taken.add(name)
            return name


def seed_inspectors(seed: int = 2026) -> list[Inspector]:
    """Add about 30 demo inspectors (3 with expired certificates, 2 on leave, 1 transferred,
    a few experts and third parties, several conflicts when employers exist) and link the
    demo users inspector1, inspector2 and leader. Does nothing when inspectors exist."""
    if db.session.scalar(select(func.count(Inspector.id))):
        return []
    rng = random.Random(seed)
    day = ops.today()
    regions = db.session.scalars(select(Region.code).order_by(Region.code)).all()
    users = {}
    for username, code in LINKED_USERS:
        user = core_ops.find_user(username)
        if user is not None:
            users.setdefault(user.department.code if user.department else code, []).append(user)

    rows = []
    taken = {u.display_name for us in users.values() for u in us}
    serial = 0
    for code, count in PLAN:
        try:
            dept = core_ops.get_department(code)
        except NotFound:
            continue
        linked = list(users.get(code, []))
        for n in range(count):
            serial += 1
            user = linked.pop(0) if linked else None
            kind = "labour_inspector" if code == "LSJC" and n % 3 != 2 else "law_enforcement"
            number = (f"LJ370305{serial:04d}" if kind == "labour_inspector"
                      else f"37030500{rng.randrange(100, 999)}{serial:03d}")
            tags = rng.sample(DEPARTMENT_TAGS[code], k=min(len(DEPARTMENT_TAGS[code]),
                                                           rng.randint(1, 3)))
            rows.append({
                "name": user.display_name if user else _name(rng, taken),
                "department": dept, "username": user.username if user else "",
                "cert_kind": kind, "cert_number": number,
                "cert_expires": day + timedelta(days=rng.randint(200, 1500)),
                "qualifications": rng.choice(QUALIFICATIONS), "tags": tags,
                "home_region": rng.choice(regions) if regions else "",
                "phone": f"0533-71{rng.randrange(10000, 99999)}", "status": "available",
                "pool": "staff", "_linked": user is not None,
            })
    # Special cases, on rows without a linked account so that the demo users stay drawable.
    free = [r for r in rows if not r["_linked"]]
    picks = rng.sample(range(len(free)), k=min(len(free), 11))
    specials = (["expired"] * 3 + ["on_leave"] * 2 + ["transferred"] + ["expiring"] +
                ["expert"] * 2 + ["third_party"] * 2)
    for index, special in zip(picks, specials):
        row = free[index]
        if special == "expired":
            row["cert_expires"] = day - timedelta(days=rng.randint(5, 200))
        elif special == "expiring":
            row["cert_expires"] = day + timedelta(days=rng.randint(3, 25))
        elif special in ("on_leave", "transferred"):
            row["status"] = special
            row["notes"] = "产假至年底" if special == "on_leave" else "已调至市局"
        else:
            row["pool"] = special
            row["cert_number"] = ("ZJ" if special == "expert" else "DS") + row["cert_number"][-6:]
            row["qualifications"] = ("注册安全工程师，职业卫生专家库成员" if special == "expert"
                                     else "第三方机构：淄博齐鲁人力资源评估有限公司")
            row["tags"] = ["occupational_safety"] if special == "expert" else ["wages",
                                                                               "social_insurance"]
    created = []
    for row in rows:
        row.pop("_linked")
        created.append(ops.create_inspector(row, reason="demo"))
    _seed_conflicts(rng, created)
    return created


def _seed_conflicts(rng: random.Random, inspectors: list[Inspector]) -> None:
    employers = db.session.scalars(select(Employer).order_by(Employer.credit_code)
                                   .limit(300)).all()
    if not employers:
        return
    relations = ("relative", "former_employer", "shareholding", "other")
    chosen = rng.sample(inspectors, k=min(6, len(inspectors)))
    for n, inspector in enumerate(chosen):
        employer = rng.choice(employers)
        relation = relations[n % len(relations)]
        conflict = ops.declare_conflict(inspector, employer, relation, CONFLICT_NOTES[relation])
        if n == len(chosen) - 1:
            ops.end_conflict(conflict, "该亲属已于去年离职，经科室核实解除回避")
