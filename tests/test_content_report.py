"""`qianzhu content report` and the source checks of `qianzhu content check` (issue 9, items 11 and 12)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.catalog.catalog import Catalog
from bot.catalog.loader import load_catalog
from bot.catalog.report import render_report, report_rows
from bot.core.errors import ContentError
from tests.test_cli import qianzhu

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
COMMITTED = ROOT / "docs" / "content-report.md"
COLUMNS = ("地区", "层级", "宽限期", "注销点", "签注窗口", "最低可信度", "最早核对", "来源")


def table(text: str) -> dict[str, dict[str, str]]:
    """The first table of the report: place name (before any （province）) -> column -> cell."""
    rows: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        if not line.startswith("| ") or line.startswith(("| 地区", "| id")):
            if rows and not line.startswith("|"):
                break
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows[cells[0].split("（")[0]] = dict(zip(COLUMNS, cells, strict=True))
    return rows


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of the shipped content to break."""
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_committed_report_is_current(catalog: Catalog) -> None:
    """docs/content-report.md is regenerated with `qianzhu content report --output docs/content-report.md`."""
    assert COMMITTED.read_text(encoding="utf-8") == render_report(catalog), (
        "docs/content-report.md is out of date: run `qianzhu content report --output docs/content-report.md`"
    )


def test_the_command_prints_the_markdown_table_and_writes_a_file(tmp_path: Path) -> None:
    printed = qianzhu("content", "report")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == COMMITTED.read_text(encoding="utf-8")
    out = tmp_path / "report.md"
    written = qianzhu("content", "report", "--output", str(out))
    assert written.returncode == 0, written.stderr
    assert written.stdout == ""
    assert out.read_text(encoding="utf-8") == printed.stdout


def test_the_cells_hold_the_rules(catalog: Catalog) -> None:
    rows = table(render_report(catalog))
    assert rows["上海"]["宽限期"] == "60天"
    assert rows["江苏"]["宽限期"] == "30天"
    assert rows["南京"]["宽限期"] == "30天（江苏）"
    assert rows["深圳"]["注销点"].startswith("逾期24个月；之后重新申领新证")
    assert rows["深圳"]["签注窗口"] == "到期前60天"
    assert rows["郑州"]["注销点"].startswith("逾期6个月（河南）；之后重新登记，满半年后签注原证")
    assert rows["全国"]["宽限期"] == "0天"
    assert rows["全国"]["注销点"] == "无"
    assert rows["北京"]["最低可信度"] == "低（low）"
    assert "`bj_2021`" in rows["北京"]["来源"]
    assert "`bj_2025`" in rows["北京"]["来源"]  # the second Beijing source, named through see_also
    assert rows["长沙"]["最低可信度"] == "未核实（unverified）"  # national figures, but no local rule found
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows["上海"]["最早核对"])
    assert "（中低；2026-12-01）" in rows["上海"]["来源"]  # each source with its confidence and accessed date


def test_every_place_with_a_rule_has_a_row(catalog: Catalog) -> None:
    rows = table(render_report(catalog))
    assert set(rows) == {"全国", *catalog.rules.provinces, *catalog.rules.cities}


def test_the_report_merges_as_the_bot_does(catalog: Catalog) -> None:
    """A city row shows exactly the figures `Catalog.rule_for` applies."""
    for row in report_rows(catalog):
        if row.kind != "市":
            continue
        rule = catalog.rule_for(row.place)
        assert (row.grace.fact.value, row.grace.fact.source) == (rule.grace.value, rule.grace.source_id), row.place
        assert (row.window.fact.value, row.window.fact.unit) == (rule.window.value, rule.window.unit), row.place
        cancel = (row.cancel.fact.value, row.cancel.fact.unit) if row.cancel else None
        assert cancel == ((rule.cancel_after.value, rule.cancel_after.unit) if rule.cancel_after else None)
        assert row.after_cancel == rule.after_cancel
        assert row.rule_source == rule.rule_source_id


@pytest.mark.parametrize("field", ["publisher", "accessed"])
def test_content_check_refuses_a_source_without_publisher_or_date(broken: Path, field: str) -> None:
    sources = broken / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    block = text.split("  bj_2021:\n", 1)[1].split("\n  bj_2025:", 1)[0]
    line = next(line for line in block.splitlines() if line.startswith(f"    {field}:"))
    edit(sources, f"  bj_2021:\n{block}", f"  bj_2021:\n{block.replace(line + chr(10), '')}")
    result = qianzhu("content", "check", str(broken))
    assert result.returncode == 1
    assert "sources.yaml" in result.stderr
    assert f"sources.bj_2021.{field}" in result.stderr


def test_content_check_refuses_a_low_confidence_figure_without_a_conditional_note(broken: Path) -> None:
    note = "      note: 据2021年的一篇报道，逾期超过6个月可能会被注销；现行做法未核实，请先去派出所问能否补办签注\n"
    edit(broken / "rules.yaml", note, "")
    result = qianzhu("content", "check", str(broken))
    assert result.returncode == 1
    assert "rules.yaml" in result.stderr
    assert "cities.北京.cancel_after.note" in result.stderr
    assert "low" in result.stderr


def test_a_note_stated_as_bare_fact_is_refused_too(broken: Path) -> None:
    """A note is not enough: it has to read conditionally (可能, 如果, 推定 or 未核实)."""
    edit(broken / "rules.yaml", "按江苏省规定推定，苏州本地做法未核实", "逾期30日内补办仍算连续")
    with pytest.raises(ContentError, match=r"cities\.苏州\.grace_days\.note.*confidence low"):
        load_catalog(broken)


def test_a_medium_low_figure_needs_the_note_as_well(broken: Path) -> None:
    edit(broken / "rules.yaml", ", note: 据二手页面，有效期届满前30日内签注；官方条文未核实}", "}")
    with pytest.raises(ContentError, match=r"cities\.上海\.window_before\.note.*medium-low"):
        load_catalog(broken)


def test_a_source_on_a_spam_domain_is_refused(broken: Path) -> None:
    edit(
        broken / "sources.yaml", "url: http://jingyanla.com/a/06/060a4451H024.html", "url: http://yayubj.com/hk/1.html"
    )
    with pytest.raises(ContentError, match=r"sources\.sc_rules\.url: yayubj\.com is a spam domain"):
        load_catalog(broken)


def test_see_also_must_name_a_source(broken: Path) -> None:
    edit(broken / "sources.yaml", "see_also: [bj_2025]", "see_also: [bj_2099]")
    with pytest.raises(ContentError, match=r"sources\.bj_2021\.see_also: unknown source 'bj_2099'"):
        load_catalog(broken)


def test_a_note_that_points_at_other_text_is_refused(broken: Path) -> None:
    """Notes are printed last (content-audit A.19): 「以下按国家条例计算」 points at nothing."""
    changsha = "这里的日期是按国家条例算的，请以派出所的答复为准。\n  郑州"
    edit(broken / "rules.yaml", changsha, "以下按国家条例计算。\n  郑州")
    with pytest.raises(ContentError, match=r"cities\.长沙\.notes\.0: says '以下'"):
        load_catalog(broken)


def test_the_shipped_sources_record_who_and_when(catalog: Catalog) -> None:
    for source_id, source in catalog.sources.items():
        assert source.publisher.strip(), source_id
        assert source.accessed.year >= 2026, source_id
        assert "yayubj" not in (source.url or ""), source_id
