"""Reference lists for forms and demo data.

Every list is a tuple of ``(code, zh_name, en_name)`` so it can feed a select
box directly (pick the label by locale) and be stored by ``code``.
"""

from __future__ import annotations

__all__ = [
    "DEMO_COUNTY",
    "DEMO_REGIONS",
    "EMPLOYER_TYPES",
    "INDUSTRIES",
    "employer_type_name",
    "industry_name",
    "label",
    "region_name",
]

#: GB/T 4754-2017 《国民经济行业分类》, the 20 sections (门类) A–T.
INDUSTRIES: tuple[tuple[str, str, str], ...] = (
    ("A", "农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"),
    ("B", "采矿业", "Mining"),
    ("C", "制造业", "Manufacturing"),
    ("D", "电力、热力、燃气及水生产和供应业", "Production and supply of electricity, heat, gas and water"),
    ("E", "建筑业", "Construction"),
    ("F", "批发和零售业", "Wholesale and retail trade"),
    ("G", "交通运输、仓储和邮政业", "Transport, storage and postal services"),
    ("H", "住宿和餐饮业", "Accommodation and catering"),
    ("I", "信息传输、软件和信息技术服务业", "Information transmission, software and information technology services"),
    ("J", "金融业", "Finance"),
    ("K", "房地产业", "Real estate"),
    ("L", "租赁和商务服务业", "Leasing and business services"),
    ("M", "科学研究和技术服务业", "Scientific research and technical services"),
    ("N", "水利、环境和公共设施管理业", "Water conservancy, environment and public facilities management"),
    ("O", "居民服务、修理和其他服务业", "Resident services, repair and other services"),
    ("P", "教育", "Education"),
    ("Q", "卫生和社会工作", "Health and social work"),
    ("R", "文化、体育和娱乐业", "Culture, sports and entertainment"),
    ("S", "公共管理、社会保障和社会组织", "Public administration, social security and social organisations"),
    ("T", "国际组织", "International organisations"),
)

#: Kinds of employer the labour-inspection bureau supervises: enterprises and
#: individual businesses, job agencies, training and skills-assessment bodies
#: (《劳动保障监察条例》第二条), state organs, public institutions and social
#: groups (同条例第三十四条), and private non-enterprise units (《劳动合同法》第二条).
EMPLOYER_TYPES: tuple[tuple[str, str, str], ...] = (
    ("enterprise", "企业", "Enterprise"),
    ("individual_business", "个体经济组织（个体工商户）", "Individual business"),
    ("private_non_enterprise", "民办非企业单位", "Private non-enterprise unit"),
    ("social_group", "社会团体", "Social group"),
    ("public_institution", "事业单位", "Public institution"),
    ("agency", "国家机关", "State organ"),
    ("job_agency", "职业介绍机构", "Job placement agency"),
    ("training_institution", "职业技能培训机构", "Vocational skills training institution"),
    ("skills_assessment", "职业技能考核鉴定机构", "Vocational skills assessment institution"),
)

#: The demo county: division code (GB/T 2260), zh, en.
DEMO_COUNTY: tuple[str, str, str] = ("370305", "山东省淄博市临淄区", "Linzi District, Zibo, Shandong")

#: Subdistricts (街道) and towns (镇) of 临淄区 — 5 街道 and 7 镇.
#: The names are real; the 9-digit codes are DEMO CODES in the style of the
#: statistical division codes (county code + 3 digits), not verified against
#: the official 统计用区划代码 — do not use them for reporting.
DEMO_REGIONS: tuple[tuple[str, str, str], ...] = (
    ("370305001", "闻韶街道", "Wenshao Subdistrict"),
    ("370305002", "雪宫街道", "Xuegong Subdistrict"),
    ("370305003", "辛店街道", "Xindian Subdistrict"),
    ("370305004", "稷下街道", "Jixia Subdistrict"),
    ("370305005", "齐陵街道", "Qiling Subdistrict"),
    ("370305100", "齐都镇", "Qidu Town"),
    ("370305101", "皇城镇", "Huangcheng Town"),
    ("370305102", "敬仲镇", "Jingzhong Town"),
    ("370305103", "朱台镇", "Zhutai Town"),
    ("370305104", "凤凰镇", "Fenghuang Town"),
    ("370305105", "金岭回族镇", "Jinling Hui Ethnic Town"),
    ("370305106", "金山镇", "Jinshan Town"),
)


def label(table: tuple[tuple[str, str, str], ...], code: str, lang: str = "zh") -> str | None:
    """Name of ``code`` in ``table`` ('zh…' -> Chinese, else English), or None."""
    for row_code, zh, en in table:
        if row_code == code:
            return zh if lang.lower().startswith("zh") else en
    return None


def industry_name(code: str, lang: str = "zh") -> str | None:
    return label(INDUSTRIES, code.upper(), lang)


def employer_type_name(code: str, lang: str = "zh") -> str | None:
    return label(EMPLOYER_TYPES, code, lang)


def region_name(code: str, lang: str = "zh") -> str | None:
    return label(DEMO_REGIONS, code, lang)
