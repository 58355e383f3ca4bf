"""Turns verdicts and FAQ entries into the user-facing text, using only content wording."""

from __future__ import annotations

from datetime import date

from bot.catalog.catalog import Catalog
from bot.catalog.models import FaqEntry
from bot.core.rules import CityRule
from bot.core.verdicts import Verdict

WEEKDAYS = "一二三四五六日"


def fmt_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"


def bullet(lines: list[str]) -> str:
    return "\n".join(f"· {line}" for line in lines)


def faq_text(catalog: Catalog, entry: FaqEntry) -> str:
    return f"{entry.answer}\n{catalog.prompt('faq_source', source=catalog.source_label(entry.source))}"


def verdict_text(catalog: Catalog, verdict: Verdict, rule: CityRule, city_label: str) -> str:
    case = catalog.cases[verdict.case]
    grace_phrase = (
        catalog.prompt("grace_some", grace_days=verdict.grace_days)
        if verdict.grace_days
        else catalog.prompt("grace_none")
    )
    fields = {
        "city": city_label,
        "expiry": fmt_date(verdict.expiry),
        "deadline": fmt_date(verdict.deadline) if verdict.deadline else "",
        "days_left": verdict.days_left if verdict.days_left is not None else "",
        "grace_days": verdict.grace_days,
        "grace_phrase": grace_phrase,
        "cancel_date": fmt_date(verdict.cancel_date) if verdict.cancel_date else "",
        "window_start": fmt_date(verdict.window_start),
        "days_over": verdict.days_over,
    }
    deadline_line = case.deadline_line if verdict.deadline else (case.no_deadline_line or case.deadline_line)
    collect = "collect_exact" if verdict.collect_from.exact and verdict.collect_to.exact else "collect_approx"
    channels = [f"{c.name}：{c.how}" for c in rule.channels] or [catalog.prompt("no_channels")]
    sources = [rule.grace.source_id]
    if rule.cancel_after and verdict.case in ("late_endorse", "reapply"):
        sources.append(rule.cancel_after.source_id)
    sources.append(rule.rule_source_id)
    parts = [
        catalog.prompt("verdict_header", city=city_label, title=case.title),
        case.summary.format(**fields),
        deadline_line.format(**fields),
        catalog.prompt("section_todo"),
        bullet([line.format(**fields) for line in case.todo]),
        catalog.prompt("section_materials"),
        bullet(case.materials),
        catalog.prompt("section_office"),
        rule.office,
        catalog.prompt("section_channels"),
        bullet(channels),
        catalog.prompt("section_processing"),
        catalog.prompt(
            collect,
            apply_from=fmt_date(verdict.apply_from),
            collect_from=fmt_date(verdict.collect_from.day),
            collect_to=fmt_date(verdict.collect_to.day),
        ),
    ]
    if rule.notes:
        parts += [catalog.prompt("section_notes"), bullet(list(rule.notes))]
    labels = "；".join(catalog.source_label(source_id) for source_id in dict.fromkeys(sources))
    parts.append(catalog.prompt("confirm_locally", sources=labels))
    return "\n".join(parts)
