"""The loaded content, with the lookups the engine needs."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.catalog.models import CaseText, FaqEntry, Fact, IntentsFile, PromptsFile, Rule, RulesFile, Source
from bot.catalog.places import PlacesFile
from bot.core.rules import Cited, CityRule, OnlineChannel

# Each prompt may use exactly these placeholders; the loader rejects any other.
PROMPT_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(fields)
    for name, fields in {
        "welcome": (),
        "help": ("topics",),
        "reset_done": (),
        "empty_input": (),
        "ask_date": (),
        "ask_city": (),
        "ask_city_in_province": ("province",),
        "ask_city_pick": ("candidates",),
        "ask_tense": ("date",),
        "invalid_date": ("matched",),
        "out_of_range_date": ("matched",),
        "vague_date": ("matched",),
        "unknown_city": ("city",),
        "national_fallback": ("city",),
        "month_precision": ("date",),
        "fallback": (),
        "resume": (),
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
        "grace_some": ("grace_days",),
        "long_input": (),
        "thanks": (),
        "unsure": (),
        "not_chinese": (),
    }.items()
}


@dataclass(frozen=True)
class Catalog:
    sources: dict[str, Source]
    intents: IntentsFile
    faq: list[FaqEntry]
    rules: RulesFile
    cases: dict[str, CaseText]
    prompts: PromptsFile
    places: PlacesFile
    _faq_by_id: dict[str, FaqEntry] = field(init=False, repr=False)
    _province_of: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_faq_by_id", {e.id: e for e in self.faq})
        province_of = {city: prov for prov, cities in self.places.provinces().items() for city in cities}
        object.__setattr__(self, "_province_of", province_of)

    def prompt(self, key: str, **fields: object) -> str:
        return self.prompts.prompts[key].format(**fields)

    def faq_entry(self, faq_id: str) -> FaqEntry | None:
        return self._faq_by_id.get(faq_id)

    def province_of(self, city: str) -> str | None:
        return self._province_of.get(city)

    def source_label(self, source_id: str) -> str:
        source = self.sources[source_id]
        return f"{source.title}（可信度：{CONFIDENCE_LABELS[source.confidence]}）"

    def rule_for(self, city: str | None) -> CityRule:
        """Merges city over province over national; unknown or missing cities get the national rule."""
        national = self.rules.national
        layers: list[tuple[str, Rule]] = []
        province = self.province_of(city) if city else None
        if province and province in self.rules.provinces:
            layers.append(("province", self.rules.provinces[province]))
        if city and city in self.rules.cities:
            layers.append(("city", self.rules.cities[city]))

        def pick(name: str) -> object:
            for _, layer in reversed(layers):
                value = getattr(layer, name)
                if value is not None:
                    return value
            return getattr(national, name, None)

        grace: Fact = pick("grace_days")  # type: ignore[assignment]
        grace_level = next((lvl for lvl, layer in reversed(layers) if layer.grace_days is not None), "national")
        window: Fact = pick("window_before")  # type: ignore[assignment]
        cancel = pick("cancel_after")
        channels: list[object] = pick("channels") or []  # type: ignore[assignment]
        rule_source: str = pick("rule_source")  # type: ignore[assignment]
        notes = [n for _, layer in layers for n in (layer.notes or [])]
        return CityRule(
            city=city,
            level=grace_level,  # type: ignore[arg-type]
            grace=self._cite(grace),
            window=self._cite(window),
            cancel_after=self._cite(cancel) if isinstance(cancel, Fact) else None,
            permit=str(pick("permit")),
            office=str(pick("office")),
            channels=tuple(
                OnlineChannel(c.name, c.how, self.sources[c.source].confidence)
                for c in channels
                if hasattr(c, "source")
            ),
            rule_source_id=rule_source,
            notes=tuple(notes),
        )

    def _cite(self, fact: Fact) -> Cited:
        source = self.sources[fact.source]
        return Cited(fact.value, fact.unit, fact.source, source.title, source.confidence, source.url, fact.note)


CONFIDENCE_LABELS = {"high": "高", "medium": "中", "medium-low": "中低", "low": "低", "unverified": "未核实"}
