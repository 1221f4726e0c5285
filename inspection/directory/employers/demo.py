"""Demo data of the employers directory: the regions of 临淄区 and a deterministic set of
employers with valid credit codes and realistic names.

The employers go through the bulk importer (a CSV in a temporary directory), so a million of
them take seconds per hundred thousand rather than minutes, and the demo exercises the same
path as a real import.
"""
from __future__ import annotations

import csv
import random
import tempfile
from pathlib import Path

from sqlalchemy import select

from ...core.models import User
from ...extensions import db
from .. import credit_code as cc
from ..models import Region
from ..reference import DEMO_COUNTY, DEMO_REGIONS
from . import importer
from .operations import create_region


def seed_regions() -> int:
    """Create the demo county's streets and towns that are missing; return how many."""
    existing = set(db.session.scalars(select(Region.code)))
    made = 0
    for code, name, _en in DEMO_REGIONS:
        if code not in existing:
            create_region(code, name, DEMO_COUNTY[0], DEMO_COUNTY[1], commit=False)
            made += 1
    db.session.commit()
    return made


_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宏海燕凤云飞晓东俊峰林"
_TRADE_NAMES = ("鑫盛 华宇 齐鲁 金岭 宏达 恒信 泰和 瑞丰 德隆 永兴 齐都 稷下 临淄 汇通 中鼎 华润 "
                "昌盛 东岳 天成 鲁中 兴业 博远 正源 新齐 金桥 凤凰 广源 联创 润发 宝丰 华星 "
                "诚信 嘉禾 宏远 众和 晨光 大地 海川 天宇 裕隆").split()
#: (industry section, words, weight) for companies.
_COMPANY_TRADES = (
    ("C", ("机械制造", "化工", "陶瓷", "纺织", "塑料制品", "精细化工", "汽车配件", "食品", "包装制品",
           "医药", "玻璃制品", "不锈钢制品"), 30),
    ("E", ("建筑工程", "建设工程", "装饰工程", "市政工程"), 10),
    ("F", ("商贸", "贸易", "石化产品销售", "建材销售"), 15),
    ("G", ("物流", "运输", "仓储"), 8),
    ("H", ("餐饮管理", "酒店管理"), 5),
    ("I", ("电子科技", "信息技术", "软件"), 5),
    ("K", ("房地产开发", "物业管理"), 5),
    ("L", ("企业管理咨询", "劳务", "保安服务"), 7),
    ("M", ("检测技术", "环保科技"), 4),
    ("O", ("家政服务", "汽车维修"), 4),
    ("D", ("热力", "燃气"), 2),
    ("A", ("农业科技", "养殖"), 3),
    ("N", ("环卫服务", "园林绿化"), 2),
)
_SHOPS = (("H", "饭店"), ("H", "烧烤店"), ("H", "面馆"), ("O", "理发店"), ("F", "五金店"),
          ("F", "超市"), ("O", "汽修部"), ("F", "副食店"), ("O", "洗车行"), ("H", "快餐店"),
          ("F", "建材门市部"), ("O", "美容美发店"))
_ROADS = ("齐都路", "桓公路", "闻韶路", "牛山路", "临淄大道", "晏婴路", "管仲路", "雪宫路", "稷下路",
          "齐兴路", "遄台路", "太公路", "大顺路", "辛店路")
#: employer type, credit-code prefix (authority + type), weight.
_TYPES = (("enterprise", "91", 700), ("individual_business", "92", 220),
          ("private_non_enterprise", "52", 20), ("social_group", "51", 8),
          ("public_institution", "12", 20), ("agency", "11", 5), ("job_agency", "91", 12),
          ("training_institution", "52", 10), ("skills_assessment", "12", 5))


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def _code(rng: random.Random, prefix: str, seen: set[int]) -> str:
    while True:
        if rng.random() < 0.7:
            body = "MA" + "".join(rng.choice(cc.ALPHABET) for _ in range(6))
        else:
            body = "".join(rng.choice("0123456789") for _ in range(8))
        code = cc.make_code(prefix[0], prefix[1], DEMO_COUNTY[0], body)
        key = int(code, 36)
        if key not in seen:
            seen.add(key)
            return code


def _row(rng: random.Random, seen: set[int], regions: list[tuple[str, str]]) -> list[str]:
    etype, prefix = rng.choices([(t, p) for t, p, _w in _TYPES],
                                weights=[w for _t, _p, w in _TYPES])[0]
    region_code, region_name = rng.choice(regions)
    trade = rng.choice(_TRADE_NAMES)
    if etype == "individual_business":
        industry, shop = rng.choice(_SHOPS)
        name = f"临淄区{trade}{shop}"
        employees = rng.randint(1, 9)
    elif etype == "enterprise":
        industry, words, _w = rng.choices(_COMPANY_TRADES, weights=[w for *_x, w in _COMPANY_TRADES])[0]
        name = f"淄博{trade}{rng.choice(words)}{'股份有限公司' if rng.random() < .08 else '有限公司'}"
        employees = int(rng.lognormvariate(3.2, 1.1)) + 1
    else:
        industry, name = {
            "private_non_enterprise": ("P", f"临淄区{trade}幼儿园"),
            "social_group": ("S", f"临淄区{trade}商会"),
            "public_institution": ("Q", f"临淄区{region_name}社区卫生服务中心"),
            "agency": ("S", f"临淄区{region_name}办事处"),
            "job_agency": ("L", f"淄博{trade}人力资源有限公司"),
            "training_institution": ("P", f"临淄区{trade}职业培训学校"),
            "skills_assessment": ("M", f"淄博{trade}职业技能鉴定所"),
        }[etype]
        employees = rng.randint(5, 120)
    grade = rng.choices("ABCD", weights=(60, 30, 8, 2))[0]
    risky = {"A": .005, "B": .03, "C": .2, "D": .45}[grade]
    flags = ["1" if rng.random() < risky else "0" for _ in range(3)]
    status = rng.choices(("active", "deregistered", "moved_away", "closed"),
                         weights=(97, 1.5, 1, .5))[0]
    phone = (f"0533-7{rng.randint(0, 999999):06d}" if rng.random() < .5 else
             f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}")
    address = f"山东省淄博市临淄区{region_name}{rng.choice(_ROADS)}{rng.randint(1, 999)}号"
    return [_code(rng, prefix, seen), name, etype, address, region_code, industry, _person(rng),
            phone, str(employees), grade, *flags, status, ""]


def write_csv(path: Path, count: int, seed: int = 2026) -> None:
    """The demo employers as an import file (stored codes, not labels)."""
    rng = random.Random(seed)
    regions = [(code, name) for code, name, _en in DEMO_REGIONS]
    seen: set[int] = set()
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([c.key for c in importer.COLUMNS])
        for _ in range(count):
            writer.writerow(_row(rng, seen, regions))


def seed_employers(count: int = 3000, seed: int = 2026,
                   actor: User | None = None) -> importer.Report:
    """Create (or update, by credit code) ``count`` demo employers, deterministically."""
    seed_regions()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"demo-employers-{seed}.csv"
        write_csv(path, count, seed)
        return importer.import_file(path, actor=actor)
