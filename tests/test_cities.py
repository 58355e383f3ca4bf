"""The city extractor against the real content/places.yaml."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.catalog.places import PlacesFile
from intents.cities import CityExtractor, CityFinding

PLACES_YAML = Path(__file__).resolve().parents[1] / "content" / "places.yaml"

# Provincially administered county-level units that the list carries as cities.
COUNTY_LEVEL = frozenset({
    "济源", "仙桃", "潜江", "天门", "神农架", "五指山", "琼海", "文昌", "万宁", "东方", "定安",
    "屯昌", "澄迈", "临高", "白沙", "昌江", "乐东", "陵水", "保亭", "琼中", "石河子", "阿拉尔",
    "图木舒克", "五家渠", "北屯", "铁门关", "双河", "可克达拉", "昆玉", "胡杨河", "新星", "白杨",
})  # fmt: skip

# city, full name, one district (or county-level city or town)
BIG_CITIES = [
    ("北京", "北京市", "海淀区"),
    ("上海", "上海市", "浦东新区"),
    ("广州", "广州市", "天河区"),
    ("深圳", "深圳市", "福田区"),
    ("杭州", "杭州市", "拱墅区"),
    ("成都", "成都市", "武侯区"),
    ("重庆", "重庆市", "渝中区"),
    ("天津", "天津市", "滨海新区"),
    ("南京", "南京市", "玄武区"),
    ("苏州", "苏州市", "昆山市"),
    ("武汉", "武汉市", "洪山区"),
    ("西安", "西安市", "雁塔区"),
    ("东莞", "东莞市", "虎门镇"),
    ("佛山", "佛山市", "顺德区"),
    ("厦门", "厦门市", "思明区"),
    ("长沙", "长沙市", "岳麓区"),
    ("郑州", "郑州市", "金水区"),
    ("青岛", "青岛市", "黄岛区"),
]

ALIASES = [
    ("魔都", "上海"), ("申城", "上海"), ("沪上", "上海"), ("帝都", "北京"), ("京城", "北京"),
    ("羊城", "广州"), ("花城", "广州"), ("鹏城", "深圳"), ("蓉城", "成都"), ("山城", "重庆"),
    ("雾都", "重庆"), ("津门", "天津"), ("金陵", "南京"), ("杭城", "杭州"), ("江城", "武汉"),
    ("鹭岛", "厦门"), ("岛城", "青岛"), ("姑苏", "苏州"), ("星城", "长沙"), ("恩施州", "恩施"),
    ("版纳", "西双版纳"), ("呼市", "呼和浩特"),
]  # fmt: skip

SINGLE_CHARACTER = [
    ("我在沪工作", "上海"), ("来穗三年了", "广州"), ("过年回京", "北京"), ("刚到渝", "重庆"),
    ("驻津人员", "天津"), ("在蓉办居住证", "成都"), ("我在莞", "东莞"), ("沪漂一族", "上海"),
    ("京漂五年", "北京"), ("沪上居住证", "上海"), ("莞", "东莞"), ("沪", "上海"),
]  # fmt: skip

PLACES = [
    ("广东东莞", "东莞", "广东东莞"),
    ("江苏省苏州市", "苏州", "江苏省苏州市"),
    ("深圳南山区", "深圳", "深圳南山区"),
    ("福田区", "深圳", "福田区"),
    ("浦东", "上海", "浦东"),
    ("昆山", "苏州", "昆山"),
    ("海淀区", "北京", "海淀区"),
    ("朝阳", "朝阳", "朝阳"),
    ("辽宁朝阳", "朝阳", "辽宁朝阳"),
    ("吉林", "吉林", "吉林"),
    ("吉林长春", "长春", "吉林长春"),
    ("吉林省长春市", "长春", "吉林省长春市"),
    ("东莞长安镇", "东莞", "东莞长安镇"),
    ("松山湖", "东莞", "松山湖"),
    ("我住在海淀", "北京", "海淀"),
    ("苏州市昆山市", "苏州", "苏州市昆山市"),
    ("我在福州鼓楼区", "福州", "福州鼓楼区"),
    ("北京东城", "北京", "北京东城"),
    ("重庆渝北", "重庆", "重庆渝北"),
    ("恩施土家族苗族自治州", "恩施", "恩施土家族苗族自治州"),
    ("海南州", "海南州", "海南州"),
    ("我在三亚", "三亚", "三亚"),
    ("在仙桃", "仙桃", "仙桃"),
    ("石河子", "石河子", "石河子"),
    ("广西壮族自治区南宁市", "南宁", "南宁市"),
    ("东莞，广东的", "东莞", "东莞"),
    ("我在上海", "上海", "上海"),
    ("上海南京路的派出所", "上海", "上海"),
]

PROVINCE_ONLY = [
    ("我在广东", "广东"),
    ("四川", "四川"),
    ("新疆", "新疆"),
    ("吉林省", "吉林"),
    ("海南", "海南"),
]

PREFERENCE = [
    ("老家河南，现在在上海", "上海"),
    ("我在上海，老家北京", "上海"),
    ("户口在湖北，人在武汉", "武汉"),
    ("我是河南人，在深圳上班", "深圳"),
    ("上海的户口，人在苏州", "苏州"),
    ("我在上海，之前在北京", "上海"),
    ("老家湖南长沙，工作在杭州", "杭州"),
    ("现在在深圳，以后可能去广州", "深圳"),
    ("从北京搬到了上海", "上海"),
    ("我来自四川，住在成都", "成都"),
]

CORRECTIONS = [
    ("不是北京，是天津", "天津"),
    ("北京，哦不对，天津", "天津"),
    ("先说上海吧，其实是苏州", "苏州"),
    ("我在天津，不在北京", "天津"),
]

NOTHING = [
    "老家在成都",
    "北京户口",
    "户籍是河南的",
    "南京路",
    "南京东路派出所",
    "北京路",
    "上海路",
    "中山路",
    "中山北路",
    "成都道",
    "广州大道",
    "在京东买的",
    "京剧",
    "在津贴上",
    "莞尔一笑",
    "沪深300",
    "买了个长沙发",
    "普通话",
    "三明治",
    "我在长安",
    "我在东方",
    "居住证签注过期了怎么办",
    "派出所在哪",
    "社区事务受理服务中心",
    "要带什么材料",
    "积分落户",
    "港澳通行证",
    "12345热线",
    "签注需要本人去吗",
    "回执单丢了",
    "粤省事能办吗",
    "",
    "   ",
    "😀👍",
    "hello, where is the police station?",
]


@pytest.fixture(scope="module")
def places_file() -> PlacesFile:
    with PLACES_YAML.open(encoding="utf-8") as f:
        return PlacesFile.model_validate(yaml.safe_load(f))


@pytest.fixture(scope="module")
def extractor(places_file: PlacesFile) -> CityExtractor:
    return CityExtractor(places_file.to_places(), places_file.provinces())


def _city(extractor: CityExtractor, text: str) -> str | None:
    finding = extractor.extract(text)
    return finding.city if finding else None


@pytest.mark.parametrize(("city", "full_name", "district"), BIG_CITIES)
@pytest.mark.parametrize("form", ["name", "full_name", "district"])
def test_big_cities(
    extractor: CityExtractor, places_file: PlacesFile, city: str, full_name: str, district: str, form: str
) -> None:
    text = {"name": city, "full_name": full_name, "district": district}[form]
    province = next(p.province for p in places_file.to_places() if p.name == city)
    assert extractor.extract(text) == CityFinding(city, province, text)


@pytest.mark.parametrize(("text", "city"), ALIASES + SINGLE_CHARACTER)
def test_aliases(extractor: CityExtractor, text: str, city: str) -> None:
    assert _city(extractor, text) == city


@pytest.mark.parametrize(("text", "city", "matched"), PLACES)
def test_places(extractor: CityExtractor, text: str, city: str, matched: str) -> None:
    finding = extractor.extract(text)
    assert finding is not None
    assert (finding.city, finding.matched, finding.candidates) == (city, matched, ())


@pytest.mark.parametrize(("text", "province"), PROVINCE_ONLY)
def test_province_only(extractor: CityExtractor, text: str, province: str) -> None:
    assert extractor.extract(text) == CityFinding(None, province, text.removeprefix("我在"))


@pytest.mark.parametrize(("text", "city"), PREFERENCE + CORRECTIONS)
def test_where_the_user_lives_wins(extractor: CityExtractor, text: str, city: str) -> None:
    assert _city(extractor, text) == city


@pytest.mark.parametrize("text", NOTHING)
def test_no_city(extractor: CityExtractor, text: str) -> None:
    assert extractor.extract(text) is None


def test_district_in_two_big_cities_is_ambiguous(extractor: CityExtractor) -> None:
    # 东城区 (北京) and 东城街道 (东莞) share the short form.
    assert extractor.extract("东城") == CityFinding(None, None, "东城", ("北京", "东莞"))


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("朝阳区", CityFinding(None, None, "朝阳区", ("北京", "长春"))),
        ("鼓楼区", CityFinding(None, None, "鼓楼区", ("南京", "徐州", "福州", "开封"))),
        ("南山区", CityFinding(None, None, "南山区", ("鹤岗", "深圳"))),
        ("江苏鼓楼区", CityFinding(None, None, "江苏鼓楼区", ("南京", "徐州"))),  # the province narrows it
        ("苏州鼓楼区", CityFinding(None, None, "苏州鼓楼区", ("南京", "徐州"))),  # so does a city's province
        ("杭州鼓楼区", CityFinding("杭州", "浙江", "杭州")),  # no 鼓楼区 in 浙江: the named city wins
        ("深圳南山区", CityFinding("深圳", "广东", "深圳南山区")),
        ("我在北京朝阳区", CityFinding("北京", "北京", "北京朝阳区")),
        ("南京市鼓楼区", CityFinding("南京", "江苏", "南京市鼓楼区")),  # not 徐州's, though in 江苏 too
        ("我在长春朝阳区", CityFinding("长春", "吉林", "长春朝阳区")),
    ],
)
def test_district_in_several_prefectures(extractor: CityExtractor, text: str, finding: CityFinding) -> None:
    assert extractor.extract(text) == finding


def test_province_prefix_is_part_of_the_match(extractor: CityExtractor) -> None:
    finding = extractor.extract("我在广东东莞")
    assert finding == CityFinding("东莞", "广东", "广东东莞")


def test_vocabulary(extractor: CityExtractor) -> None:
    words = extractor.vocabulary()
    assert {
        "浦东新区",
        "东莞市",
        "长安镇",
        "魔都",
        "吉林省",
        "新疆",
        "上海",
        "江阴市",
        "双江拉祜族佤族布朗族傣族自治县",
    } <= set(words)
    assert all(len(w) >= 2 for w in words)
    assert "长安" not in words  # 西安's 长安区 and 东莞's 长安镇: too ambiguous alone
    assert {"浦东", "义乌", "忠县"}.isdisjoint(words)  # two-character district names: jieba does without
    assert {"恍然大悟", "大方", "城区"}.isdisjoint(words)  # everyday words


def test_list_is_complete(places_file: PlacesFile) -> None:
    provinces = places_file.provinces()
    assert len(provinces) == 31
    assert all(provinces.values()), [p for p, cities in provinces.items() if not cities]
    cities = [c for cs in provinces.values() for c in cs]
    assert len([c for c in cities if c not in COUNTY_LEVEL]) >= 330
    assert set(cities) >= COUNTY_LEVEL
    assert {"香港", "澳门", "台湾", "台北"}.isdisjoint(cities)


def test_names_are_unique(places_file: PlacesFile) -> None:
    names = Counter(p.name for p in places_file.to_places())
    assert {n: k for n, k in names.items() if k > 1} == {}
    assert names["朝阳"] == 1


def test_cities_have_complete_districts(places_file: PlacesFile) -> None:
    by_name = {p.name: p for p in places_file.to_places()}
    for city, _, district in BIG_CITIES:
        assert district in by_name[city].districts, city
    assert {"昆山市", "常熟市", "张家港市", "太仓市", "姑苏区"} <= set(by_name["苏州"].districts)
    assert {"虎门镇", "长安镇", "松山湖", "南城街道"} <= set(by_name["东莞"].districts)
    assert len(by_name["北京"].districts) == 16
    assert len(by_name["上海"].districts) == 16
    assert {"涿州市", "定州市", "易县", "雄县", "竞秀区"} <= set(by_name["保定"].districts)
    assert {"那大镇", "白马井镇"} <= set(by_name["儋州"].districts)  # no counties: its towns
    without = sorted(p.name for p in places_file.to_places() if not p.districts)
    assert set(without) == COUNTY_LEVEL  # the provincially administered county-level units themselves


def test_hand_added_aliases(places_file: PlacesFile) -> None:
    by_name = {p.name: p for p in places_file.to_places()}
    assert {"魔都", "申城", "沪", "沪上"} <= set(by_name["上海"].aliases)
    assert {"帝都", "京城", "京"} <= set(by_name["北京"].aliases)
    assert {"羊城", "花城", "穗"} <= set(by_name["广州"].aliases)


def test_model_rejects_unknown_keys_and_duplicates() -> None:
    city = {"name": "广州", "full_name": "广州市"}
    with pytest.raises(ValidationError, match="extra"):
        PlacesFile.model_validate({"provinces": [{"name": "广东", "full_name": "广东省", "cities": [city]}], "x": 1})
    with pytest.raises(ValidationError, match="duplicate city names: 广州"):
        PlacesFile.model_validate({"provinces": [{"name": "广东", "full_name": "广东省", "cities": [city, city]}]})
    with pytest.raises(ValidationError, match="short form"):
        PlacesFile.model_validate(
            {
                "provinces": [
                    {
                        "name": "广东",
                        "full_name": "广东省",
                        "cities": [{"name": "广州市", "full_name": "广州市"}],
                    }
                ]
            }
        )
