"""The city extractor: which prefecture-level city does the user live in, according to one message."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True)
class Place:
    name: str  # canonical short name: 上海, 东莞, 恩施 (never with 市)
    full_name: str
    province: str  # short province name
    aliases: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()  # full names of its county-level divisions (towns where it has none)
    ordinary: tuple[str, ...] = ()  # everyday words that are or hold its names (大方, 恍然大悟): never it


@dataclass(frozen=True, slots=True)
class CityFinding:
    city: str | None  # canonical short name when exactly one city is meant
    province: str | None  # its province; when only a province was named, city is None and this is set
    matched: str  # the text span that matched
    candidates: tuple[str, ...] = ()  # >1 canonical names when the mention is ambiguous


# Short names too common as ordinary words to count on their own; their full names still match.
COMMON_WORDS = frozenset({
    "东方", "阿里", "新星", "白杨", "光明", "和平", "河东", "河西", "新城", "芙蓉", "高明", "中原",
    "二七", "上街", "江岸", "市南", "市北", "长安", "滨海", "青山", "白云", "南岸", "长寿", "鼓楼",
    "湖里", "桥头", "沙田", "东区", "西区", "南区", "三角", "港口", "古镇", "民众", "南头",
})  # fmt: skip
_SINGLE_BEFORE = "在来到回驻留"  # 在沪, 来穗, 回京
_SINGLE_AFTER = "上漂"  # 沪上, 京漂
_JOINERS = frozenset("省市的 ·")  # may stand between the parts of one place: 广东省的东莞
_STREET = re.compile(r"[东西南北中]?(?:路|街|大道|大街|巷|道(?![路理歉]))")
_NOT_PLACES = re.compile(
    r"长沙发(?!布)|三明治|哈密瓜|普洱茶|和田玉|北京时间|兰州拉面|中山大学|中山公园|中山装|中山陵"
    r"|京东|京剧|津贴|大同小异|长治久安"
)
_CLAUSE = re.compile(r"[，。,.!！?？；;：:\n]")
_CUES = re.compile(
    r"(?P<away>(?:老家|家乡|户口|户籍|籍贯|原籍|出生|来自|以前|之前|原来|曾经|过去|从前)[^，。,.!！?？；;、\s]{0,4}"
    r"|不在|不是|没在|并非)"
    r"|(?P<live>在|住|来|到|驻|留|搬|工作|上班|定居|现居)"
)
_AWAY_AFTER = re.compile(r"的?(?:户口|户籍|老家)|籍|人(?![社民才口力员事大保])")
# The 55 minorities as county names spell them, so that 双江拉祜族佤族布朗族傣族自治县 becomes 双江; a few
# names go without 族 (木垒哈萨克自治县, 鄂伦春自治旗), and 龙胜各族自治县 is for all of them.
_MINORITIES = (
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼",
    "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
    "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克",
    "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺", "各",
)  # fmt: skip
_ETHNIC_TAIL = re.compile(
    "(?:(?:{})族|哈萨克|塔吉克|锡伯|蒙古|鄂伦春|柯尔克孜)+$".format(
        "|".join(sorted(_MINORITIES, key=len, reverse=True))
    )
)
# Banners (旗) keep their suffix: people say 乌审旗 and 达拉特旗, and 土默特左旗 has no shorter form.
_SUFFIXES = ("街道", "新区", "林区", "特区", "自治县", "自治旗", "区", "县", "市", "镇")
_AWAY, _NEUTRAL, _LIVE = -1, 0, 1


@dataclass(frozen=True, slots=True)
class _Target:
    cities: tuple[str, ...]  # empty when the surface names a province only
    province: str | None
    single: bool = False  # a one-character alias, counted only in clear patterns
    district: bool = False  # names a district or town of the city, not the city itself


# An everyday word read as a whole so that no place is read inside it: 恍然大悟 (大悟县), 市中心 (市中区).
_DECOY = _Target((), None)


@dataclass(frozen=True, slots=True)
class _Mention:
    target: _Target
    start: int
    end: int


@cache  # the catalog's validation, its to_places() and the extractor all ask for the same ~3,000
def district_short(full: str) -> str:
    """浦东新区 -> 浦东, 管城回族区 -> 管城, 虎门镇 -> 虎门, 东乡族自治县 -> 东乡; names of two characters
    stay whole (忠县)."""
    for suffix in _SUFFIXES:
        if full.endswith(suffix) and len(full) > len(suffix) + 1:
            base = full.removesuffix(suffix)
            if "族" not in base and not suffix.startswith("自治"):  # most names: spare the regex
                return base
            short = _ETHNIC_TAIL.sub("", base)
            return short if len(short) >= 2 else base.removesuffix("族")  # 东乡族自治县 is the 东乡 people's
    return full


class CityExtractor:
    """Finds the city (or province) a message says the user lives in, by looking names up in one table."""

    def __init__(self, places: Sequence[Place], provinces: Mapping[str, Sequence[str]] | None = None) -> None:
        self._province_of = {p.name: p.province for p in places}
        ordinary = COMMON_WORDS.union(*(p.ordinary for p in places))
        strong, weak = self._surfaces(places, ordinary)
        province_names = set(provinces or ()) | {p.province for p in places}
        rank = {p.name: i for i, p in enumerate(places)}
        districts = {d for p in places for d in p.districts}
        self._targets: dict[str, _Target] = {}
        for surface, cities in [*weak.items(), *strong.items()]:
            if surface in province_names and surface not in strong:
                continue
            ordered = tuple(sorted(cities, key=rank.__getitem__)) if len(cities) > 1 else tuple(cities)
            provs = {self._province_of[c] for c in ordered}
            province = provs.pop() if len(provs) == 1 else None
            is_district = surface in districts or surface not in strong
            self._targets[surface] = _Target(ordered, province, len(surface) == 1, is_district)
        sizes = Counter(p.province for p in places)
        for prov in province_names:  # 吉林 and the municipalities are cities first
            self._targets.setdefault(prov, _Target((), prov))
            if sizes[prov] != 1:
                self._targets.setdefault(prov + "省", _Target((), prov))
        for word in ordinary:  # a place's own name wins: 东方 stays silent, 东方市 still matches
            self._targets.setdefault(word, _DECOY)
        self._lengths = self._lengths_by_first(self._targets)

    @staticmethod
    def _surfaces(places: Sequence[Place], ordinary: frozenset[str]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """Surface -> city names: strong (names, full names, aliases, full district names) and weak (district
        short forms, dropped where they clash with a strong one). Everyday words are neither."""
        strong: dict[str, set[str]] = {}
        weak: dict[str, set[str]] = {}
        for p in places:
            for surface in (p.full_name, *p.aliases, p.name, *p.districts):
                if surface not in ordinary:  # 城区 and 郊区 are everyday words even in full
                    strong.setdefault(surface, set()).add(p.name)
            for district in p.districts:
                short = district_short(district)
                if len(short) >= 2 and short != district and short not in ordinary:
                    weak.setdefault(short, set()).add(p.name)
        return strong, weak

    @staticmethod
    def _lengths_by_first(targets: Mapping[str, _Target]) -> dict[str, tuple[int, ...]]:
        """First character -> the lengths of the surfaces that start with it, longest first. The scan tries a
        handful of slices per character, where one regex alternation of ~6,000 names tries them one by one."""
        lengths: dict[str, set[int]] = {}
        for surface in targets:
            lengths.setdefault(surface[0], set()).add(len(surface))
        return {first: tuple(sorted(sizes, reverse=True)) for first, sizes in lengths.items()}

    def vocabulary(self) -> list[str]:
        """The names for jieba: every name and alias of a province or city, and the names of districts and
        counties of three characters or more. The ~2,300 two-character ones (义乌, 忠县) are left out: jieba
        knows many of them already, and tuning it for all would add a third to its start-up."""
        return sorted(
            s for s, t in self._targets.items() if t is not _DECOY and (len(s) >= 3 or (len(s) == 2 and not t.district))
        )

    def extract(self, text: str) -> CityFinding | None:
        mentions = self._mentions(text)
        if not mentions:
            return None
        groups: list[list[_Mention]] = [[mentions[0]]]
        for m in mentions[1:]:
            if _JOINERS.issuperset(text[groups[-1][-1].end : m.start]):
                groups[-1].append(m)
            else:
                groups.append([m])
        roles = self._roles(text, groups)
        kept = [g for g, r in zip(groups, roles, strict=True) if r != _AWAY]
        if not kept:
            return None
        live = [g for g, r in zip(groups, roles, strict=True) if r == _LIVE]
        chosen = (live or kept)[-1]
        hints = [m for g in kept for m in g]
        return self._resolve(text, chosen, hints)

    def _spans(self, text: str) -> list[tuple[int, int]]:
        """The leftmost-longest, non-overlapping spans of known surfaces (as a regex alternation would find)."""
        spans = []
        targets, lengths = self._targets, self._lengths
        start, n = 0, len(text)
        while start < n:
            end = start + 1
            for size in lengths.get(text[start], ()):
                if start + size <= n and text[start : start + size] in targets:
                    end = start + size
                    spans.append((start, end))
                    break
            start = end
        return spans

    def _mentions(self, text: str) -> list[_Mention]:
        found = []
        for start, end in self._spans(text):
            surface = text[start:end]
            target = self._targets[surface]
            if target is _DECOY or _STREET.match(text, end) or _NOT_PLACES.match(text, start):
                continue
            if target.single and not (
                (start > 0 and text[start - 1] in _SINGLE_BEFORE)
                or (end < len(text) and text[end] in _SINGLE_AFTER)
                or text.strip(" 。.!！?？~") == surface
            ):
                continue
            found.append(_Mention(target, start, end))
        return found

    @staticmethod
    def _roles(text: str, groups: list[list[_Mention]]) -> list[int]:
        roles, previous_end = [], 0
        for group in groups:
            lo, hi = previous_end, group[0].start
            for clause in _CLAUSE.finditer(text, lo, hi):
                lo = clause.end()
            role = _NEUTRAL
            for cue in _CUES.finditer(text, lo, hi):
                role = _AWAY if cue.lastgroup == "away" else _LIVE
            if role == _NEUTRAL and _AWAY_AFTER.match(text, group[-1].end):
                role = _AWAY
            roles.append(role)
            previous_end = group[-1].end
        return roles

    def _pick(self, group: list[_Mention]) -> _Mention:
        """The last, most precise part of a place, unless it is a district contradicting what precedes it
        (福州鼓楼区 is not 南京's 鼓楼区)."""
        last = group[-1]
        if last.target.district and len(group) > 1:
            before = group[-2].target
            areas = {*last.target.cities, *(self._province_of[c] for c in last.target.cities)}
            if not areas & {*before.cities, before.province}:
                return group[-2]
        return last

    def _resolve(self, text: str, group: list[_Mention], hints: list[_Mention]) -> CityFinding:
        chosen = self._pick(group)
        matched = text[group[0].start : chosen.end]
        target = chosen.target
        if not target.cities:  # a province: is one of its cities named too?
            for m in reversed(hints):
                if len(m.target.cities) == 1 and m.target.province == target.province:
                    return CityFinding(m.target.cities[0], target.province, text[m.start : m.end])
            return CityFinding(None, target.province, matched)
        cities = target.cities
        if len(cities) > 1:  # a city named beside it decides, else a province: 南京市鼓楼区, 江苏鼓楼区
            named = {c for m in hints for c in m.target.cities if len(m.target.cities) == 1}
            provinces = {m.target.province for m in hints if m.target.province and m is not chosen}
            cities = (
                tuple(c for c in cities if c in named)
                or tuple(c for c in cities if self._province_of[c] in provinces)
                or cities
            )
        if len(cities) == 1:
            return CityFinding(cities[0], self._province_of[cities[0]], matched)
        return CityFinding(None, target.province, matched, cities)
