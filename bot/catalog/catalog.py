"""The loaded content, with the lookups the engine needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.catalog.models import (
    CaseText,
    Channel,
    Fact,
    FaqEntry,
    IntentsFile,
    PromptsFile,
    Rule,
    RulesFile,
    Source,
)
from bot.catalog.places import PlacesFile
from bot.core.rules import Cited, CityRule, Level, OnlineChannel
from bot.core.verdicts import Case

# Each prompt may use exactly these placeholders; the loader rejects any other.
PROMPT_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(fields)
    for name, fields in {
        "welcome": (),
        "help": (),
        "help_topics": ("topics",),
        "reset_done": (),
        "forget_done": (),
        "empty_input": (),
        "ask_date": (),
        "ask_city": (),
        "ask_city_in_province": ("province",),
        "ask_city_pick": ("candidates",),
        "ask_tense": ("date",),
        "invalid_date": ("matched",),
        "out_of_range_date": ("matched",),
        "vague_date": ("matched",),
        "not_this_year": ("matched",),
        "unknown_city": ("city",),
        "national_fallback": ("city",),
        "fallback": (),
        "resume": (),
        "recalled": ("kept",),
        "recalled_date": ("date",),
        "recalled_change": (),
        "chat_resumed": ("kept",),
        "chat_resumed_unfinished": (),
        "apology": (),
        "verdict_header": ("city", "title"),
        "section_todo": (),
        "section_materials": (),
        "section_office": (),
        "section_channels": (),
        "section_processing": (),
        "section_notes": (),
        "no_channels": (),
        "collect_exact": ("apply_from", "collect_from", "collect_to"),
        "collect_approx": ("apply_from", "collect_from", "collect_to"),
        "confirm_locally": ("sources",),
        "faq_source": ("source",),
        "grace_none": (),
        "grace_none_national": (),
        "grace_some_hedged": ("basis", "grace_days"),
        "basis": ("source", "confidence"),
        "processing_endorse": (),
        "collect_reapply_local": (),
        "deadline_day_off": ("deadline", "last_workday"),
        "deadline_day_off_approx": ("deadline", "last_workday"),
        "grace_some": ("grace_days",),
        "long_input": (),
        "thanks": (),
        "unsure": (),
        "not_chinese": (),
        "year_assumed": ("date", "relation", "choice"),
        "relation_past": ("days",),
        "relation_future": ("days",),
        "relation_today": (),
        "year_fix_next": (),
        "year_fix_last": (),
        "year_fix_this": (),
        "approx_range": ("first", "last"),
        "range_header": ("city",),
        "range_intro": ("first", "last"),
        "range_item": ("first", "last", "brief"),
        "range_tail": (),
        "ask_direction": ("matched",),
        "plan_ok": ("when", "deadline", "window_start", "grace_end", "cancel_date"),
        "plan_too_early": ("when", "deadline", "window_start", "grace_end", "cancel_date"),
        "plan_grace": ("when", "deadline", "window_start", "grace_end", "cancel_date"),
        "plan_late": ("when", "deadline", "window_start", "grace_end", "cancel_date"),
        "plan_late_cancel": ("when", "deadline", "window_start", "grace_end", "cancel_date"),
        "plan_reapply": ("when", "deadline", "window_start", "grace_end", "cancel_date"),
        "plan_grace_hedged": ("when", "deadline", "window_start", "grace_end", "cancel_date"),
        "plan_late_no_grace": ("when", "deadline", "window_start", "grace_end", "cancel_date"),
        "plan_late_cancel_no_grace": ("when", "deadline", "window_start", "grace_end", "cancel_date"),
        "plan_day_off": ("day",),
        "plan_needs_date": (),
        "done_already": (),
        "plan_hint": ("date",),
        "other_person": ("person",),
        "back_to_own": (),
        "ask_date_person": ("person",),
        "ask_city_person": ("person",),
        "person_label": ("person", "city"),
        "offer_calc": (),
        "offer_calc_city": ("city",),
        "city_not_place": ("text",),
        "topic_office": ("city", "office"),
        "topic_channels": ("city",),
        "topic_materials": ("city", "title"),
        "topic_grace_some": ("city", "grace_days"),
        "topic_grace_none_local": ("city",),
        "topic_grace_none_national": ("city",),
        "topic_cancel": ("city", "amount"),
        "topic_cancel_hedged": ("city", "amount", "basis"),
        "topic_grace_some_hedged": ("city", "grace_days", "basis"),
        "topic_cancel_none": ("city",),
        "topic_window": ("city", "amount"),
        "topic_processing": ("city",),
        "card_lapsed_grace": (),
        "card_lapsed": (),
        "card_day_off": ("deadline", "last_workday"),
        "card_caution": ("basis",),
        "card_caution_plain": (),
        "detail_sources": (),
        "detail_processing": ("city",),
        "detail_notes": ("city",),
        "card_approx_range": ("first", "last"),
        "more_heading": (),
        "more_heading_plain": (),
        "remind_offer": (),
        "action_remind": ("deadline", "city"),
        "action_calendar": ("deadline", "city"),
        "action_no_deadline": ("what",),
        "action_needs_verdict": (),
    }.items()
}


@dataclass(frozen=True)
class Catalog:
    sources: dict[str, Source]
    intents: IntentsFile
    faq: list[FaqEntry]
    rules: RulesFile
    cases: dict[Case, CaseText]
    prompts: PromptsFile
    places: PlacesFile
    reregister: CaseText | None = None  # the reapply text where a rule says to register again (河南)
    _faq_by_id: dict[str, FaqEntry] = field(init=False, repr=False)
    _province_of: dict[str, str] = field(init=False, repr=False)
    _rules_cache: dict[str | None, CityRule] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_faq_by_id", {e.id: e for e in self.faq})
        province_of = {city: prov for prov, cities in self.places.provinces().items() for city in cities}
        object.__setattr__(self, "_province_of", province_of)

    def prompt(self, key: str, **fields: object) -> str:
        template = self.prompts.prompts[key]
        return template.format(**fields) if fields else template

    def faq_entry(self, faq_id: str) -> FaqEntry | None:
        return self._faq_by_id.get(faq_id)

    def province_of(self, city: str) -> str | None:
        return self._province_of.get(city)

    def source_label(self, source_id: str) -> str:
        source = self.sources[source_id]
        return f"{source.title}（可信度：{CONFIDENCE_LABELS[source.confidence]}）"

    def rule_for(self, city: str | None) -> CityRule:
        """Merges city over province over national; unknown or missing cities get the national rule."""
        cached = self._rules_cache.get(city)
        if cached is None:
            cached = self._rules_cache[city] = self._resolve(city)
        return cached

    def _resolve(self, city: str | None) -> CityRule:
        national = self.rules.national
        province = self.province_of(city) if city else None
        layers: list[tuple[Level, Rule]] = []  # the most specific first
        if city and city in self.rules.cities:
            layers.append(("city", self.rules.cities[city]))
        if province and province in self.rules.provinces:
            layers.append(("province", self.rules.provinces[province]))

        def first(name: str) -> Any:
            return next((value for _, layer in layers if (value := getattr(layer, name)) is not None), None)

        grace_level: Level = next((level for level, layer in layers if layer.grace_days is not None), "national")
        cancel: Fact | None = first("cancel_after")
        channels: list[Channel] = first("channels") or national.channels
        rule_source: str = first("rule_source") or national.rule_source
        return CityRule(
            city=city,
            level=grace_level,
            grace=self._cite(first("grace_days") or national.grace_days),
            window=self._cite(first("window_before") or national.window_before),
            cancel_after=self._cite(cancel) if cancel else None,
            permit=first("permit") or national.permit,
            office=first("office") or national.office,
            channels=tuple(OnlineChannel(c.name, c.how, self.sources[c.source].confidence) for c in channels),
            rule_source_id=rule_source,
            notes=tuple(note for _, layer in reversed(layers) for note in (layer.notes or [])),
            after_cancel=first("after_cancel") or "reapply",
            reapply_steps=tuple(first("reapply_steps") or ()),
        )

    def _cite(self, fact: Fact) -> Cited:
        source = self.sources[fact.source]
        return Cited(fact.value, fact.unit, fact.source, source.title, source.confidence, source.url, fact.note)


CONFIDENCE_LABELS = {"high": "高", "medium": "中", "medium-low": "中低", "low": "低", "unverified": "未核实"}
