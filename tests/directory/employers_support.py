"""Helpers shared by the employers tests (not a test module)."""
from __future__ import annotations

import io
import random

import pytest

from inspection.directory import credit_code as cc
from inspection.directory.employers import operations as ops
from inspection.directory.employers.demo import seed_regions
from inspection.extensions import db

HEADER = ("credit_code,name,employer_type,address,region_code,industry,legal_representative,"
          "contact_phone,employees,risk_grade,flag_complaints,flag_abnormal,"
          "flag_serious_violation,status,notes")


def codes(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        code = cc.random_code(rng)
        if code not in out:
            out.append(code)
    return out


def bad_check_char(code: str) -> str:
    """``code`` with a wrong 18th character."""
    wrong = next(ch for ch in cc.ALPHABET if ch != code[17])
    return code[:17] + wrong


def row(code: str, name: str = "淄博测试机械有限公司", **kw) -> str:
    values = {"employer_type": "企业", "address": "临淄区桓公路1号", "region_code": "370305001",
              "industry": "C", "legal_representative": "张三", "contact_phone": "0533-7000001",
              "employees": "12", "risk_grade": "B", "flag_complaints": "否",
              "flag_abnormal": "否", "flag_serious_violation": "否", "status": "在营", "notes": ""}
    values.update(kw)
    return ",".join([code, name] + [values[k] for k in HEADER.split(",")[2:]])


def csv_bytes(*rows: str) -> bytes:
    return ("\n".join((HEADER,) + rows) + "\n").encode("utf-8")


def employer_values(code: str, **kw) -> dict:
    values = {"credit_code": code, "name": "淄博齐鲁化工有限公司", "employer_type": "enterprise",
              "address": "临淄区桓公路8号", "region_code": "370305001", "industry": "C",
              "legal_representative": "李四", "contact_phone": "0533-7123456", "employees": 30,
              "risk_grade": "B", "flag_complaints": False, "flag_abnormal": False,
              "flag_serious_violation": False, "status": "active", "notes": ""}
    values.update(kw)
    return values


@pytest.fixture
def regions(app):
    with app.app_context():
        seed_regions()
    return app


def make_employer(app, code: str, actor_id: int | None = None, **kw) -> int:
    from inspection.core.models import User
    with app.test_request_context():
        actor = db.session.get(User, actor_id) if actor_id else None
        employer = ops.create_employer(employer_values(code, **kw), actor=actor)
        return employer.id


def upload(data: bytes, name: str = "employers.csv"):
    return (io.BytesIO(data), name)
