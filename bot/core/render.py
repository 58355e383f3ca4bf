"""Turns verdicts and FAQ entries into the user-facing text, using only content wording."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from bot.catalog.catalog import Catalog
from bot.catalog.models import FaqEntry
from bot.core.rules import CityRule
from bot.core.verdicts import Case, Segment, Verdict, classify

WEEKDAYS = "一二三四五六日"


@lru_cache(maxsize=8192)
def fmt_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"


def bullet(lines: list[str]) -> str:
    return "\n".join(f"· {line}" for line in lines)


def faq_text(catalog: Catalog, entry: FaqEntry) -> str:
    return f"{entry.answer}\n{catalog.prompt('faq_source', source=catalog.source_label(entry.source))}"


class VerdictRenderer:
    """Writes the verdict reply. The parts that depend only on the case and the rule are built once."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._static: dict[tuple[Case, CityRule], tuple[str, str]] = {}

    def render(self, verdict: Verdict, rule: CityRule, city_label: str, whose: str = "您") -> str:
        catalog, case = self.catalog, self.catalog.cases[verdict.case]
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
            "whose": whose,
        }
        deadline_line = case.deadline_line if verdict.deadline else (case.no_deadline_line or case.deadline_line)
        exact = verdict.collect_from.exact and verdict.collect_to.exact
        middle, tail = self._static_parts(verdict.case, rule)
        return "\n".join(
            [
                catalog.prompt("verdict_header", city=city_label, title=case.title),
                case.summary.format(**fields),
                deadline_line.format(**fields),
                catalog.prompt("section_todo"),
                bullet([line.format(**fields) for line in case.todo]),
                middle,
                catalog.prompt(
                    "collect_exact" if exact else "collect_approx",
                    apply_from=fmt_date(verdict.apply_from),
                    collect_from=fmt_date(verdict.collect_from.day),
                    collect_to=fmt_date(verdict.collect_to.day),
                ),
                tail,
            ]
        )

    def _static_parts(self, case_id: Case, rule: CityRule) -> tuple[str, str]:
        """(materials, office, channels and the processing heading; local notes and sources)."""
        key = (case_id, rule)
        cached = self._static.get(key)
        if cached is not None:
            return cached
        catalog, case = self.catalog, self.catalog.cases[case_id]
        channels = [f"{c.name}：{c.how}" for c in rule.channels] or [catalog.prompt("no_channels")]
        middle = [
            catalog.prompt("section_materials"),
            bullet(case.materials),
            catalog.prompt("section_office"),
            rule.office,
            catalog.prompt("section_channels"),
            bullet(channels),
            catalog.prompt("section_processing"),
        ]
        sources = [rule.grace.source_id]
        if rule.cancel_after and case_id in ("late_endorse", "reapply"):
            sources.append(rule.cancel_after.source_id)
        sources.append(rule.rule_source_id)
        tail = [catalog.prompt("section_notes"), bullet(list(rule.notes))] if rule.notes else []
        labels = "；".join(catalog.source_label(source_id) for source_id in dict.fromkeys(sources))
        tail.append(catalog.prompt("confirm_locally", sources=labels))
        cached = self._static[key] = ("\n".join(middle), "\n".join(tail))
        return cached


def fmt_short(day: date, today: date) -> str:
    """5月1日 in the current year, 2025年5月1日 otherwise."""
    return f"{day.month}月{day.day}日" if day.year == today.year else f"{day.year}年{day.month}月{day.day}日"


def render_split(catalog: Catalog, parts: list[Segment], rule: CityRule, label: str, today: date, sources: str) -> str:
    """A range of expiry days that leads to several cases: each outcome, the most favourable first."""
    first, last = parts[0].first, parts[-1].last
    lines = [
        catalog.prompt("range_header", city=label),
        catalog.prompt("range_intro", first=fmt_short(first, today), last=fmt_short(last, today)),
    ]
    for part in reversed(parts):
        _, deadline, _ = classify(part.first, rule, today)  # the segment's earliest day: the earliest deadline
        _, _, cancel = classify(part.last, rule, today)
        case = catalog.cases[part.case]
        text = case.brief if deadline or not case.brief_no_deadline else case.brief_no_deadline
        brief = text.format(
            deadline=fmt_date(deadline) if deadline else "", cancel_date=fmt_date(cancel) if cancel else ""
        )
        lines.append(
            catalog.prompt(
                "range_item", first=fmt_short(part.first, today), last=fmt_short(part.last, today), brief=brief
            )
        )
    lines += [catalog.prompt("range_tail"), sources]
    return "\n".join(lines)
