"""Short answers that use the user's city and deadline: city topics of FAQ entries, plans, and follow-ups."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from bot.catalog.catalog import Catalog
from bot.catalog.models import CityTopic
from bot.core.render import HEDGED, amount, basis_text, bullet, fmt_date
from bot.core.rules import Cited, CityRule
from bot.core.verdicts import Case, Verdict, classify
from bot.core.workdays import is_workday


class Followups:
    """Builds the short answers; every text comes from the content."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        # Both depend only on the rule (and the topic and case): the same few hundred texts serve every user.
        self.sources = lru_cache(maxsize=4096)(self._sources)
        self._topic = lru_cache(maxsize=4096)(self._compute_topic)

    def p(self, key: str, **fields: object) -> str:
        return self.catalog.prompt(key, **fields)

    def topic(self, topic: CityTopic, rule: CityRule, city: str, verdict: Verdict | None) -> str:
        """The city's own answer to a FAQ topic, with its sources and the confirm-locally line."""
        return self._topic(topic, rule, city, verdict.case if verdict else None)

    def _compute_topic(self, topic: CityTopic, rule: CityRule, city: str, case_id: Case | None) -> str:
        lines = self._topic_lines(topic, rule, city, case_id)
        return "\n".join([*lines, self.sources(rule, topic)])

    def _topic_lines(self, topic: CityTopic, rule: CityRule, city: str, case_id: Case | None) -> list[str]:
        if topic == "channels":
            channels = [f"{c.name}：{c.how}" for c in rule.channels] or [self.p("no_channels")]
            return [self.p("topic_channels", city=city), bullet(channels)]
        if topic == "materials":
            case = self.catalog.cases[case_id or "not_expired"]
            figure = rule.grace if case_id == "within_grace" else rule.cancel_after if case_id == "reapply" else None
            hedged = figure is not None and figure.confidence in HEDGED  # never a bare fact in a title
            title = (case.title_hedged if hedged else None) or case.title
            return [self.p("topic_materials", city=city, title=title), bullet(case.materials)]
        if topic == "grace":
            if rule.grace_days:
                if rule.grace.confidence in HEDGED:
                    basis = self._basis(rule.grace)
                    return [self.p("topic_grace_some_hedged", city=city, grace_days=rule.grace_days, basis=basis)]
                return [self.p("topic_grace_some", city=city, grace_days=rule.grace_days)]
            local = rule.level != "national"
            return [self.p("topic_grace_none_local" if local else "topic_grace_none_national", city=city)]
        if topic == "cancel":
            if rule.cancel_after:
                if rule.cancel_after.confidence in HEDGED:
                    basis = self._basis(rule.cancel_after)
                    return [self.p("topic_cancel_hedged", city=city, amount=amount(rule.cancel_after), basis=basis)]
                return [self.p("topic_cancel", city=city, amount=amount(rule.cancel_after))]
            return [self.p("topic_cancel_none", city=city)]
        if topic == "window":
            return [self.p("topic_window", city=city, amount=amount(rule.window))]
        if topic == "processing":
            return [self.p("topic_processing", city=city)]
        return [self.p("topic_office", city=city, office=rule.office)]  # office and hours

    def _basis(self, cited: Cited) -> str:
        return basis_text(self.catalog, cited)

    def _sources(self, rule: CityRule, topic: CityTopic | None = None) -> str:
        ids = [rule.grace.source_id]
        if rule.cancel_after and topic in (None, "cancel"):
            ids.append(rule.cancel_after.source_id)
        if topic == "window":
            ids = [rule.window.source_id]
        ids.append(rule.rule_source_id)
        labels = "；".join(self.catalog.source_label(i) for i in dict.fromkeys(ids))
        return self.p("confirm_locally", sources=labels)

    def plan(self, day: date, when: str, verdict: Verdict, rule: CityRule) -> str:
        """Whether going on `day` is still in time, against the verdict already given."""
        case, deadline, cancel = classify(verdict.expiry, rule, day)
        grace_end = verdict.expiry + timedelta(days=rule.grace_days)
        fields = {
            "when": f"{when}（{fmt_date(day)}）" if when != fmt_date(day) else when,
            "deadline": fmt_date(verdict.expiry),
            "window_start": fmt_date(verdict.window_start),
            "grace_end": fmt_date(grace_end),
            "cancel_date": fmt_date(cancel) if cancel else "",
        }
        if case == "not_expired":
            key = "plan_too_early" if day < verdict.window_start else "plan_ok"
        elif case == "within_grace":
            key = "plan_grace_hedged" if rule.grace.confidence in HEDGED else "plan_grace"
        elif case == "late_endorse":
            key = "plan_late_cancel" if deadline else "plan_late"
            if not rule.grace_days:  # no grace period here: say that it has lapsed, not that a grace ended
                key += "_no_grace"
        else:
            key = "plan_reapply"
        lines = [self.p(key, **fields)]
        works, _known = is_workday(day)
        if not works:
            lines.append(self.p("plan_day_off", day=fmt_date(day)))
        return "\n".join(lines)
