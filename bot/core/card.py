"""The short verdict card, and the details a user asks for after it, from the same content as the full verdict.

The card is what a phone shows first: its first line holds the case, the city, the countdown and the deadline
(so the notification preview carries them), then the one thing to do now, a weekend warning where the deadline
falls on a day off, and the confirm-locally line with the confidence of the figure that decides the case. The
rest of the full verdict (materials, office, online channels, processing time, local notes, the reasoning and its
sources) comes as details on demand, each a short text of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.catalog.catalog import Catalog
from bot.catalog.models import DetailId
from bot.core.render import VerdictRenderer, basis_text, bullet, deciding_figure, is_hedged
from bot.core.rules import Cited, CityRule
from bot.core.verdicts import Verdict

CONTENT_DETAILS: tuple[DetailId, ...] = ("materials", "office", "channels", "processing", "notes", "sources")


class CardRenderer:
    """Writes the card and the details; every word comes from the content."""

    def __init__(self, catalog: Catalog, renderer: VerdictRenderer) -> None:
        self.catalog = catalog
        self.renderer = renderer

    def head(self, verdict: Verdict, rule: CityRule, label: str, whose: str = "您") -> str:
        """The first line: case, city, countdown and deadline."""
        case = self.renderer.case_text(verdict.case, rule)
        hedged = is_hedged(verdict, rule)
        today = verdict.deadline is not None and verdict.days_left == 0
        if today and hedged and case.card_today_hedged:  # the last day of a figure we are unsure of
            line = case.card_today_hedged
        elif today and case.card_today and not hedged:
            line = case.card_today
        elif hedged and case.card_hedged:
            line = case.card_hedged
        elif verdict.deadline is None and case.card_no_deadline:
            line = case.card_no_deadline
        else:
            line = case.card
        return line.format(**self.renderer.fields(verdict, rule, label, whose))

    def card(self, verdict: Verdict, rule: CityRule, label: str, whose: str = "您", notes: Sequence[str] = ()) -> str:
        """The whole card: the head, then `notes` (what the answer assumed), then the body."""
        return "\n".join([self.head(verdict, rule, label, whose), *notes, *self.body(verdict, rule, label, whose)])

    def body(self, verdict: Verdict, rule: CityRule, label: str, whose: str = "您") -> list[str]:
        """The lines under the head: the one thing to do now, a day-off warning, the caution."""
        case = self.renderer.case_text(verdict.case, rule)
        if is_hedged(verdict, rule) and case.next_step_hedged:
            step = case.next_step_hedged
        elif verdict.case == "reapply" and rule.reapply_steps and rule.after_cancel != "reregister":
            step = rule.reapply_steps[0]  # the place's own first step (深圳: 12 months of registration first)
        elif verdict.case == "not_expired" and verdict.window_start > verdict.today and case.next_step_early:
            step = case.next_step_early
        else:
            step = case.next_step
        fields = self.renderer.fields(verdict, rule, label, whose)
        return [f"👉 {step.format(**fields)}", *self.renderer.day_off(verdict, short=True), self.caution(verdict, rule)]

    def caution(self, verdict: Verdict, rule: CityRule) -> str:
        """Confirm locally, with the source and confidence of the figure that decides the case (before expiry:
        how early the city lets one endorse)."""
        figure: Cited | None = deciding_figure(verdict, rule)
        if figure is None and verdict.case == "not_expired":
            figure = rule.window
        if figure is None:
            return self.catalog.prompt("card_caution_plain")
        return self.catalog.prompt("card_caution", basis=basis_text(self.catalog, figure))

    def offered(self, rule: CityRule) -> tuple[DetailId, ...]:
        """The details worth offering for this rule: 当地提示 only where the rule has notes, 网上办 only where it
        names an online channel (a button that leads to 「没有找到」 is not worth a tap)."""
        skip = {d for d, has in (("notes", rule.notes), ("channels", rule.channels)) if not has}
        return tuple(d for d in CONTENT_DETAILS if d not in skip)

    def detail(self, detail: DetailId, verdict: Verdict, rule: CityRule, label: str, whose: str = "您") -> str:
        """One part of the full verdict, for the verdict already given."""
        p = self.catalog.prompt
        renderer = self.renderer
        case = renderer.case_text(verdict.case, rule)
        if detail == "materials":
            title = renderer.title(verdict, rule)
            return "\n".join([p("topic_materials", city=label, title=title), bullet(case.materials)])
        if detail == "office":
            return p("topic_office", city=label, office=rule.office)
        if detail == "channels":
            channels = [f"{c.name}：{c.how}" for c in rule.channels] or [p("no_channels")]
            return "\n".join([p("topic_channels", city=label), bullet(channels)])
        if detail == "processing":
            return "\n".join(
                [p("detail_processing", city=label), renderer.processing(verdict, rule), *renderer.day_off(verdict)]
            )
        if detail == "notes" and rule.notes:
            return "\n".join([p("detail_notes", city=label), bullet(list(rule.notes))])
        return self._reasons(verdict, rule, label, whose)

    def _reasons(self, verdict: Verdict, rule: CityRule, label: str, whose: str) -> str:
        """依据: why this case, the full deadline line, the steps, and every source with its confidence."""
        renderer = self.renderer
        case = renderer.case_text(verdict.case, rule)
        hedged = is_hedged(verdict, rule)
        fields = renderer.fields(verdict, rule, label, whose)
        summary, todo = renderer.explanation(verdict, rule)
        return "\n".join(
            [
                self.catalog.prompt("detail_sources"),
                summary.format(**fields),
                renderer.deadline_line(verdict, case, hedged).format(**fields),
                bullet([line.format(**fields) for line in todo]),
                renderer.sources_line(verdict.case, rule),
            ]
        )
