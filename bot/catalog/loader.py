"""Loads and cross-checks every content file once, at start-up."""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any, TypeVar, get_args
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ValidationError

from bot.catalog.catalog import PROMPT_FIELDS, Catalog
from bot.catalog.models import (
    CasesFile,
    DetailId,
    FaqFile,
    IntentsFile,
    NationalRule,
    PromptsFile,
    Rule,
    RulesFile,
    SourcesFile,
)
from bot.catalog.places import PlacesFile
from bot.core.errors import ContentError

M = TypeVar("M", bound=BaseModel)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when libyaml is there: 5x faster

CASE_FIELDS = frozenset(
    {
        "city",
        "expiry",
        "deadline",
        "days_left",
        "grace_days",
        "cancel_date",
        "window_start",
        "days_over",
        "grace_phrase",
        "whose",
        "basis",
        "cancel_amount",
        "lapsed",
    }
)
CASE_TEXT_FIELDS = (
    "summary",
    "summary_hedged",
    "deadline_line",
    "deadline_line_hedged",
    "deadline_line_today",
    "no_deadline_line",
    "brief",
    "brief_no_deadline",
    "brief_hedged",
    "card",
    "card_today",
    "card_today_hedged",
    "card_hedged",
    "card_no_deadline",
    "next_step",
    "next_step_early",
    "next_step_hedged",
)


# Confidences whose figures are never stated as bare facts: such a figure needs a conditional note (rules.yaml header).
HEDGED_CONFIDENCES = frozenset({"low", "medium-low", "unverified"})
# A conditional note says so in one of these words (「据……，可能……」, 「按……推定」, 「原文未核实」).
CONDITIONAL_WORDS = ("可能", "如果", "推定", "未核实")
# Rule notes are printed last, after the calculation: a note that points at other text reads wrong there.
POINTING_WORDS = ("以下", "下面", "下列", "如下", "上面", "上述")
# Domains a source may not cite (content-audit A.21: the only 成都 source was on one of them).
SPAM_DOMAINS = frozenset({"yayubj.com"})
FIGURES = ("grace_days", "cancel_after", "window_before")


def default_content_dir() -> Path:
    """QIANZHU_CONTENT, else the copy inside the installed wheel, else the checkout's content/."""
    override = os.environ.get("QIANZHU_CONTENT")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent.parent
    bundled = here / "_content"
    return bundled if bundled.is_dir() else here.parent / "content"


def read_model(directory: Path, name: str, model: type[M]) -> M:
    """One content file through its model; a ContentError names the file and the first bad field."""
    path = directory / name
    try:
        data: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except FileNotFoundError as exc:
        raise ContentError(f"{path}: file is missing") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: cannot be read as UTF-8 YAML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ContentError(f"{path}: field {field}: {first['msg']}{more}") from exc


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _check_template(file: str, field: str, template: str, allowed: frozenset[str]) -> None:
    try:
        unknown = _placeholders(template) - allowed
    except ValueError as exc:
        raise ContentError(f"{file}: field {field}: bad placeholder syntax: {exc}") from exc
    if unknown:
        raise ContentError(
            f"{file}: field {field}: unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
        )


def _check_source(file: str, field: str, source: str, sources: SourcesFile) -> None:
    if source not in sources.sources:
        raise ContentError(f"{file}: field {field}: unknown source {source!r} (define it in sources.yaml)")


def _check_sources(file: str, sources: SourcesFile) -> None:
    """see_also names other sources; no source cites a spam domain."""
    for source_id, source in sources.sources.items():
        for other in source.see_also:
            if other not in sources.sources or other == source_id:
                raise ContentError(f"{file}: field sources.{source_id}.see_also: unknown source {other!r}")
        if source.url is not None:
            host = (urlsplit(source.url).hostname or "").lower()
            if any(host == bad or host.endswith("." + bad) for bad in SPAM_DOMAINS):
                raise ContentError(f"{file}: field sources.{source_id}.url: {host} is a spam domain; cite another page")


def _check_rule(file: str, where: str, rule: Rule | NationalRule, sources: SourcesFile) -> None:
    """Figures from unsure sources carry a conditional note; notes stand on their own; steps are valid templates."""
    for fact_name in FIGURES:
        fact = getattr(rule, fact_name, None)
        if fact is None:
            continue
        field = f"{where}.{fact_name}"
        _check_source(file, f"{field}.source", fact.source, sources)
        confidence = sources.sources[fact.source].confidence
        if confidence in HEDGED_CONFIDENCES and not any(word in (fact.note or "") for word in CONDITIONAL_WORDS):
            raise ContentError(
                f"{file}: field {field}.note: the source {fact.source!r} has confidence {confidence}, so this figure "
                f"needs a note worded conditionally (with one of {'、'.join(CONDITIONAL_WORDS)})"
            )
    for n, note in enumerate(rule.notes or []):
        pointing = [word for word in POINTING_WORDS if word in note]
        if pointing:
            raise ContentError(
                f"{file}: field {where}.notes.{n}: says {pointing[0]!r}, but notes are printed last; "
                "word it so that it stands on its own"
            )
    for n, step in enumerate(getattr(rule, "reapply_steps", None) or []):
        _check_template(file, f"{where}.reapply_steps.{n}", step, CASE_FIELDS)


def _cross_check(
    d: Path,
    sources: SourcesFile,
    intents: IntentsFile,
    faq: FaqFile,
    rules: RulesFile,
    cases: CasesFile,
    prompts: PromptsFile,
    places: PlacesFile,
) -> None:
    ids = [i.id for i in intents.intents] + [f"faq.{e.id}" for e in faq.faq]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ContentError(f"{d / 'faq.yaml'}: duplicate intent ids {duplicates}")
    variants = {v: c for c, vs in intents.synonyms.items() for v in vs}
    keyword_owners = [(f"intents.yaml: intents.{i.id}", i.keywords) for i in intents.intents]
    keyword_owners += [(f"faq.yaml: faq.{e.id}", e.keywords) for e in faq.faq]
    for where, keywords in keyword_owners:
        for keyword in keywords:
            if keyword in variants:
                raise ContentError(f"{d}/{where}.keywords.{keyword}: is a synonym of {variants[keyword]!r}; use that")
    _check_sources(str(d / "sources.yaml"), sources)
    for e in faq.faq:
        _check_source(str(d / "faq.yaml"), f"faq.{e.id}.source", e.source, sources)
    rule_items: list[tuple[str, Rule | NationalRule]] = [("national", rules.national)]
    rule_items += [(f"provinces.{k}", v) for k, v in rules.provinces.items()]
    rule_items += [(f"cities.{k}", v) for k, v in rules.cities.items()]
    for where, rule in rule_items:
        _check_rule(str(d / "rules.yaml"), where, rule, sources)
        for n, channel in enumerate(rule.channels or []):
            _check_source(str(d / "rules.yaml"), f"{where}.channels.{n}.source", channel.source, sources)
        if rule.rule_source is not None:
            _check_source(str(d / "rules.yaml"), f"{where}.rule_source", rule.rule_source, sources)
    known_cities = {p.name for p in places.to_places()}
    for city in rules.cities:
        if city not in known_cities:
            raise ContentError(f"{d / 'rules.yaml'}: field cities.{city}: not a city in places.yaml")
    for province in rules.provinces:
        if province not in places.provinces():
            raise ContentError(f"{d / 'rules.yaml'}: field provinces.{province}: not a province in places.yaml")
    for case_id, case in [*cases.cases.items(), ("reregister", cases.reregister)]:
        _check_source(str(d / "cases.yaml"), f"cases.{case_id}.processing.source", case.processing.source, sources)
        for field in CASE_TEXT_FIELDS:
            text = getattr(case, field)
            if text is not None:
                _check_template(str(d / "cases.yaml"), f"cases.{case_id}.{field}", text, CASE_FIELDS)
        for n, line in enumerate(case.todo):
            _check_template(str(d / "cases.yaml"), f"cases.{case_id}.todo.{n}", line, CASE_FIELDS)
    for key, allowed in PROMPT_FIELDS.items():
        if key not in prompts.prompts:
            raise ContentError(f"{d / 'prompts.yaml'}: field prompts.{key}: missing")
        _check_template(str(d / "prompts.yaml"), f"prompts.{key}", prompts.prompts[key], allowed)
    missing = sorted(set(get_args(DetailId)) - set(prompts.details))
    empty = sorted(k for k, words in prompts.details.items() if not words or not all(w.strip() for w in words))
    if missing or empty:
        raise ContentError(f"{d / 'prompts.yaml'}: field details.{(missing or empty)[0]}: missing or empty")
    extra = sorted(set(prompts.prompts) - set(PROMPT_FIELDS))
    if extra:
        raise ContentError(f"{d / 'prompts.yaml'}: field prompts.{extra[0]}: unknown prompt")


def load_catalog(directory: Path | None = None) -> Catalog:
    """Reads content/*.yaml; raises ContentError naming the file and the field on the first problem."""
    d = directory or default_content_dir()
    if not d.is_dir():
        raise ContentError(f"{d}: content folder not found")
    sources = read_model(d, "sources.yaml", SourcesFile)
    intents = read_model(d, "intents.yaml", IntentsFile)
    faq = read_model(d, "faq.yaml", FaqFile)
    rules = read_model(d, "rules.yaml", RulesFile)
    cases = read_model(d, "cases.yaml", CasesFile)
    prompts = read_model(d, "prompts.yaml", PromptsFile)
    places = read_model(d, "places.yaml", PlacesFile)
    _cross_check(d, sources, intents, faq, rules, cases, prompts, places)
    return Catalog(
        sources=sources.sources,
        intents=intents,
        faq=faq.faq,
        rules=rules,
        cases=cases.cases,
        reregister=cases.reregister,
        prompts=prompts,
        places=places,
    )
