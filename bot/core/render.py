"""Turns verdicts and FAQ entries into the user-facing text, using only content wording."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from bot.catalog.catalog import CONFIDENCE_LABELS, Catalog
from bot.catalog.models import CaseText, FaqEntry
from bot.core.rules import Cited, CityRule
from bot.core.verdicts import Case, Segment, Verdict, classify
from bot.core.workdays import is_workday, last_workday_before

WEEKDAYS = "一二三四五六日"


@lru_cache(maxsize=8192)
def fmt_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"


def bullet(lines: list[str]) -> str:
    return "\n".join(f"· {line}" for line in lines)


def faq_text(catalog: Catalog, entry: FaqEntry) -> str:
    return f"{entry.answer}\n{catalog.prompt('faq_source', source=catalog.source_label(entry.source))}"


HEDGED = frozenset({"low", "medium-low", "unverified"})  # confidences that are never stated as bare facts


def amount(cited: Cited) -> str:
    """60天, 6个月."""
    return f"{cited.value}{'天' if cited.unit == 'days' else '个月'}"


class VerdictRenderer:
    """Writes the verdict reply. The parts that depend only on the case and the rule are built once.

    The order puts what a user must not miss first (case, countdown, what to do, the sources and the
    confirm-locally line), then the details (materials, office, channels, processing, local notes), so that a
    channel that has to cut a long reply never cuts the caution.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._static: dict[tuple[Case, CityRule], tuple[str, str, str]] = {}
        # Pure functions of a rule, or of a deadline and a day: many verdicts share them.
        self._grace_phrase = lru_cache(maxsize=1024)(self._compute_grace_phrase)
        self._day_off_lines = lru_cache(maxsize=4096)(self._compute_day_off)

    def case_text(self, case_id: Case, rule: CityRule) -> CaseText:
        """The case's text, or the re-registration text past the cancellation point where the rule says so."""
        if case_id == "reapply" and rule.after_cancel == "reregister" and self.catalog.reregister is not None:
            return self.catalog.reregister
        return self.catalog.cases[case_id]

    def title(self, verdict: Verdict, rule: CityRule) -> str:
        """The case's title, hedged where the deciding figure is unsure, without 宽限期 where there is none."""
        case = self.case_text(verdict.case, rule)
        hedged = is_hedged(verdict, rule)
        return (
            (case.title_hedged if hedged else None)
            or (case.title_no_grace if verdict.case == "late_endorse" and not rule.grace_days else None)
            or case.title
        )

    def explanation(self, verdict: Verdict, rule: CityRule) -> tuple[str, list[str]]:
        """(summary, steps) templates of the case: hedged where the deciding figure is unsure, the place's own
        steps past the cancellation point where it gives them."""
        case = self.case_text(verdict.case, rule)
        hedged = is_hedged(verdict, rule)
        summary = (case.summary_hedged if hedged else None) or case.summary
        todo = (case.todo_hedged if hedged else None) or (
            list(rule.reapply_steps) if verdict.case == "reapply" and rule.reapply_steps else case.todo
        )
        return summary, todo

    def fields(self, verdict: Verdict, rule: CityRule, city_label: str, whose: str = "您") -> dict[str, object]:
        """The placeholders of the case texts, filled for this verdict."""
        deciding = deciding_figure(verdict, rule)
        return {
            "city": city_label,
            "expiry": fmt_date(verdict.expiry),
            "deadline": fmt_date(verdict.deadline) if verdict.deadline else "",
            "days_left": verdict.days_left if verdict.days_left is not None else "",
            "grace_days": verdict.grace_days,
            "grace_phrase": self._grace_phrase(rule),
            "cancel_date": fmt_date(verdict.cancel_date) if verdict.cancel_date else "",
            "cancel_amount": amount(rule.cancel_after) if rule.cancel_after else "",
            "window_start": fmt_date(verdict.window_start),
            "days_over": verdict.days_over,
            "whose": whose,
            "basis": self.basis(deciding) if deciding else "",
            "lapsed": self.catalog.prompt("card_lapsed_grace" if rule.grace_days else "card_lapsed"),
        }

    def render(self, verdict: Verdict, rule: CityRule, city_label: str, whose: str = "您") -> str:
        """The whole verdict in one text (`qianzhu ask --full`, content editors)."""
        catalog = self.catalog
        case = self.case_text(verdict.case, rule)
        hedged = is_hedged(verdict, rule)
        fields = self.fields(verdict, rule, city_label, whose)
        summary, todo = self.explanation(verdict, rule)
        details, sources, notes = self._static_parts(verdict.case, rule)
        lines = [
            catalog.prompt("verdict_header", city=city_label, title=self.title(verdict, rule)),
            summary.format(**fields),
            self.deadline_line(verdict, case, hedged).format(**fields),
            *self.day_off(verdict),
            catalog.prompt("section_todo"),
            bullet([line.format(**fields) for line in todo]),
            sources,
            details,
            self.processing(verdict, rule),
        ]
        return "\n".join([*lines, notes] if notes else lines)

    def basis(self, cited: Cited) -> str:
        """据转述上海规定的二手页面（可信度：中低）: the source's title up to its first gloss (the whole title is in
        the sources line below)."""
        return basis_text(self.catalog, cited)

    def _compute_grace_phrase(self, rule: CityRule) -> str:
        catalog = self.catalog
        if not rule.grace_days:
            return catalog.prompt("grace_none" if rule.level != "national" else "grace_none_national")
        if rule.grace.confidence in HEDGED:
            return catalog.prompt("grace_some_hedged", basis=self.basis(rule.grace), grace_days=rule.grace_days)
        return catalog.prompt("grace_some", grace_days=rule.grace_days)

    @staticmethod
    def deadline_line(verdict: Verdict, case: CaseText, hedged: bool) -> str:
        if verdict.deadline is not None and verdict.days_left == 0 and case.deadline_line_today:
            return case.deadline_line_today  # the last day still counts: 「今天是最后一天」, not 「还剩 0 天」
        if hedged and case.deadline_line_hedged:
            return case.deadline_line_hedged
        if verdict.deadline is None:
            return case.no_deadline_line or case.deadline_line
        return case.deadline_line

    def day_off(self, verdict: Verdict, short: bool = False) -> list[str]:
        """The warning for a deadline on a weekend or holiday (`short`: the card's one line)."""
        if verdict.deadline is None or verdict.deadline < verdict.today:
            return []
        return list(self._day_off_lines(verdict.deadline, verdict.today, short))

    def _compute_day_off(self, deadline: date, today: date, short: bool) -> tuple[str, ...]:
        """A deadline on a weekend or holiday: the last working day before it, when there is one from today."""
        works, known = is_workday(deadline)
        if works:
            return ()
        last = last_workday_before(deadline)
        if last < today:
            return ()
        key = "card_day_off" if short else "deadline_day_off" if known else "deadline_day_off_approx"
        return (self.catalog.prompt(key, deadline=fmt_date(deadline), last_workday=fmt_date(last)),)

    def processing(self, verdict: Verdict, rule: CityRule) -> str:
        if verdict.case != "reapply" or rule.after_cancel == "reregister":  # 河南: the same card, endorsed again
            return self.catalog.prompt("processing_endorse")
        if rule.reapply_steps:  # the wait before applying is the place's own (深圳: 12 months), not half a year
            return self.catalog.prompt("collect_reapply_local")
        exact = verdict.collect_from.exact and verdict.collect_to.exact
        return self.catalog.prompt(
            "collect_exact" if exact else "collect_approx",
            apply_from=fmt_date(verdict.apply_from),
            collect_from=fmt_date(verdict.collect_from.day),
            collect_to=fmt_date(verdict.collect_to.day),
        )

    def sources_line(self, case_id: Case, rule: CityRule) -> str:
        """ℹ️ 依据：… with every source of the case and the confirm-locally line."""
        return self._static_parts(case_id, rule)[1]

    def _static_parts(self, case_id: Case, rule: CityRule) -> tuple[str, str, str]:
        """(materials, office, channels and the processing heading; the sources line; local notes)."""
        key = (case_id, rule)
        cached = self._static.get(key)
        if cached is not None:
            return cached
        catalog, case = self.catalog, self.case_text(case_id, rule)
        channels = [f"{c.name}：{c.how}" for c in rule.channels] or [catalog.prompt("no_channels")]
        details = [
            catalog.prompt("section_materials"),
            bullet(case.materials),
            catalog.prompt("section_office"),
            rule.office,
            catalog.prompt("section_channels"),
            bullet(channels),
            catalog.prompt("section_processing"),
        ]
        ids = [rule.grace.source_id]
        if rule.cancel_after and case_id in ("late_endorse", "reapply"):
            ids.append(rule.cancel_after.source_id)
        ids.append(rule.rule_source_id)
        labels = "；".join(catalog.source_label(source_id) for source_id in dict.fromkeys(ids))
        notes = "\n".join([catalog.prompt("section_notes"), bullet(list(rule.notes))]) if rule.notes else ""
        cached = (
            "\n".join(details),
            catalog.prompt("confirm_locally", sources=labels),
            notes,
        )
        self._static[key] = cached
        return cached


def basis_text(catalog: Catalog, cited: Cited) -> str:
    title = cited.source_title
    cut = min((i for i in (title.find("："), title.find("（")) if i >= 4), default=len(title))
    label = CONFIDENCE_LABELS.get(cited.confidence, cited.confidence)
    source = title[:cut]
    if source.count("《") > source.count("》"):  # 《江苏省…办法（…）》 cut at its gloss keeps its closing mark
        source += "》"
    return catalog.prompt("basis", source=source, confidence=label)


def is_hedged(verdict: Verdict, rule: CityRule) -> bool:
    """The figure that decides the case is one we are not sure of: it is never stated as a bare fact."""
    deciding = deciding_figure(verdict, rule)
    return deciding is not None and deciding.confidence in HEDGED


def deciding_figure(verdict: Verdict, rule: CityRule) -> Cited | None:
    """The rule figure that decides the case (and its deadline): the grace period or the cancellation point."""
    if verdict.case == "within_grace":
        return rule.grace
    if verdict.case in ("late_endorse", "reapply") and verdict.cancel_date is not None:
        return rule.cancel_after
    return None


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
        deciding = rule.grace if part.case == "within_grace" else rule.cancel_after if deadline else None
        if deciding is not None and deciding.confidence in HEDGED and case.brief_hedged:
            text = case.brief_hedged
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
