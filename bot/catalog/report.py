"""`qianzhu content report`: the rules as the bot applies them, with their sources, as a Markdown table.

For the people who keep the content: one row for the national rule, one per province rule and one per city rule,
each figure marked with the level it is inherited from, the lowest confidence behind the figures, and every source
with the day it was last read (`accessed`). docs/content-report.md is a generated copy; tests keep it current.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.catalog.catalog import CONFIDENCE_LABELS, Catalog
from bot.catalog.models import Fact, Rule

# From the surest to the least sure; the lowest confidence of a row is the last of these among its figures.
CONFIDENCE_ORDER = ("high", "medium", "medium-low", "low", "unverified")
AFTER_CANCEL = {"reapply": "重新申领新证", "reregister": "重新登记，满半年后签注原证"}
GENERATED_BY = "qianzhu content report --output docs/content-report.md"
Kind = Literal["全国", "省", "市"]


@dataclass(frozen=True, slots=True)
class Figure:
    """A rule figure and the level it comes from (None: the row's own level)."""

    fact: Fact
    inherited_from: str | None


@dataclass(frozen=True, slots=True)
class ReportRow:
    place: str
    kind: Kind
    province: str | None
    grace: Figure
    window: Figure
    cancel: Figure | None
    after_cancel: str
    has_steps: bool
    rule_source: str

    def figures(self) -> list[Figure]:
        return [self.grace, *([self.cancel] if self.cancel else []), self.window]


def report_rows(catalog: Catalog) -> list[ReportRow]:
    """The national rule, each province rule, each city rule: merged the way `Catalog.rule_for` merges them."""
    rules = catalog.rules
    rows = [_row(catalog, "全国", "全国", None, [])]
    rows += [_row(catalog, name, "省", None, [(name, rule)]) for name, rule in rules.provinces.items()]
    for city, rule in rules.cities.items():
        province = catalog.province_of(city)
        layers = [(city, rule)]
        if province and province != city and province in rules.provinces:
            layers.append((province, rules.provinces[province]))
        rows.append(_row(catalog, city, "市", province if province != city else None, layers))
    return rows


def _row(catalog: Catalog, place: str, kind: Kind, province: str | None, layers: list[tuple[str, Rule]]) -> ReportRow:
    national = catalog.rules.national

    def figure(name: str, fallback: Fact | None) -> Figure | None:
        for level, (layer_name, layer) in enumerate(layers):
            fact: Fact | None = getattr(layer, name)
            if fact is not None:
                return Figure(fact, None if level == 0 else layer_name)
        return Figure(fallback, None if not layers else "全国") if fallback is not None else None

    def first(name: str) -> object:
        return next((value for _, layer in layers if (value := getattr(layer, name)) is not None), None)

    grace = figure("grace_days", national.grace_days)
    window = figure("window_before", national.window_before)
    assert grace is not None  # the national rule always has both
    assert window is not None
    after_cancel = first("after_cancel")
    return ReportRow(
        place=place,
        kind=kind,
        province=province,
        grace=grace,
        window=window,
        cancel=figure("cancel_after", None),
        after_cancel=after_cancel if isinstance(after_cancel, str) else "reapply",
        has_steps=bool(first("reapply_steps")),
        rule_source=str(first("rule_source") or national.rule_source),
    )


def amount(fact: Fact) -> str:
    return f"{fact.value}{'天' if fact.unit == 'days' else '个月'}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _inherited(figure: Figure, text: str) -> str:
    return f"{text}（{figure.inherited_from}）" if figure.inherited_from else text


def _confidence(level: str) -> str:
    return f"{CONFIDENCE_LABELS[level]}（{level}）"


def row_sources(catalog: Catalog, row: ReportRow) -> list[str]:
    """The figures' sources, the rule's own source, then the pages they name in see_also; each once."""
    ids = [figure.fact.source for figure in row.figures()] + [row.rule_source]
    ids += [other for source_id in list(ids) for other in catalog.sources[source_id].see_also]
    return list(dict.fromkeys(ids))


def lowest_confidence(catalog: Catalog, row: ReportRow) -> str:
    """The least sure of the figures' sources and the rule's own source (长沙: national figures, no local rule)."""
    ids = [figure.fact.source for figure in row.figures()] + [row.rule_source]
    return max((catalog.sources[source_id].confidence for source_id in ids), key=CONFIDENCE_ORDER.index)


def cells(catalog: Catalog, row: ReportRow) -> list[str]:
    """地区, 层级, 宽限期, 注销点, 签注窗口, 最低可信度, 最早核对, 来源."""
    place = f"{row.place}（{row.province}）" if row.province else row.place
    if row.kind == "全国":
        place = "全国（国家条例；没有本地规定的城市用它）"
    if row.cancel is None:
        cancel = "无"
    else:
        after = AFTER_CANCEL[row.after_cancel] + ("（有本地步骤）" if row.has_steps else "")
        cancel = f"{_inherited(row.cancel, f'逾期{amount(row.cancel.fact)}')}；之后{after}"
    sources = row_sources(catalog, row)
    listed = [
        f"`{source_id}` {catalog.sources[source_id].title}"
        f"（{CONFIDENCE_LABELS[catalog.sources[source_id].confidence]}；{catalog.sources[source_id].accessed}）"
        for source_id in sources
    ]
    oldest = min(catalog.sources[source_id].accessed for source_id in sources)
    return [
        place,
        row.kind,
        _inherited(row.grace, amount(row.grace.fact)),
        cancel,
        _inherited(row.window, f"到期前{amount(row.window.fact)}"),
        _confidence(lowest_confidence(catalog, row)),
        oldest.isoformat(),
        "<br>".join(listed),
    ]


def render_report(catalog: Catalog) -> str:
    """The whole report as Markdown; the same content gives the same bytes (no timestamp)."""
    lines = [
        "# 签注规则一览（内容报告）",
        "",
        f"由 `{GENERATED_BY}` 从 content/rules.yaml 和 content/sources.yaml 生成，请勿手改；改了内容后重新生成，"
        "tests/test_content_report.py 会比对这份副本。",
        "",
        "- 宽限期、注销点、签注窗口：括号里是继承来源（全国或省名），没有括号的是本行自己的规定。"
        "注销点之后的做法：重新申领新证（reapply），或重新登记、满半年后签注原证（reregister）。",
        "- 最低可信度：本行宽限期、注销点、窗口所依据的来源和规则总体来源（rule_source）中最低的一个。"
        "可信度为中低、低或未核实的数字，`qianzhu content check` 要求附带条件措辞的 note，"
        "机器人不会把它当作确定事实。",
        "- 最早核对：本行所有来源中最久没有重新核对的日期（sources.yaml 的 accessed）。",
        "- 来源：数字的来源、规则总体来源（rule_source）和它们的 see_also；括号里是可信度和最后核对日期。",
        "",
        "| 地区 | 层级 | 宽限期 | 注销点 | 签注窗口 | 最低可信度 | 最早核对 | 来源（可信度；核对日期） |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in cells(catalog, row)) + " |" for row in report_rows(catalog)]
    lines += [
        "",
        "## 全部来源",
        "",
        "| id | 标题 | 发布者 | 可信度 | 核对日期 | 网址 |",
        "|---|---|---|---|---|---|",
    ]
    for source_id, source in catalog.sources.items():
        values = [
            f"`{source_id}`",
            source.title,
            source.publisher,
            _confidence(source.confidence),
            source.accessed.isoformat(),
            source.url or "（未记录）",
        ]
        lines.append("| " + " | ".join(_cell(v) for v in values) + " |")
    return "\n".join(lines) + "\n"
