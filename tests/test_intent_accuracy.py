"""Intent accuracy on hand-labelled questions, and the consistency of the intent and FAQ content.

The labelled questions live in tests/data/intent_questions.yaml: `{q: ..., intent: faq.fee}`, where
`intent: null` means the message must not match any intent confidently (the bot falls back).
Two parts of the set are counted on their own: questions about a rule that hold 过期 or 到期 (they must reach the FAQ
that answers them, not the date calculation), and the lines of the `# ---- typos and homophones ----` section.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot.catalog.models import FaqFile, IntentsFile, SourcesFile
from bot.core.matching import make_matcher
from intents.matcher import IntentMatcher
from intents.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
QUESTIONS = ROOT / "tests" / "data" / "intent_questions.yaml"

MIN_ACCURACY = 0.95
MIN_QUESTIONS = 1100
MIN_RULE_EXPIRY = 100  # rule questions (a FAQ about the 居住证, not another document) that hold 过期 or 到期
MIN_TYPOS = 50  # lines in the typos and homophones section
TYPOS_HEADER = "# ---- typos and homophones ----"
MIN_PER_FAQ = 4
MIN_FLOW = 150
MIN_NULL = 60
MAX_QUESTION_CHARS = 20
MAX_ANSWER_CHARS = 260


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Content:
    intents: IntentsFile
    faq: FaqFile
    sources: SourcesFile


@dataclass(frozen=True)
class Labelled:
    q: str
    intent: str | None


@pytest.fixture(scope="module")
def content() -> Content:
    return Content(
        intents=IntentsFile.model_validate(_yaml(CONTENT / "intents.yaml")),
        faq=FaqFile.model_validate(_yaml(CONTENT / "faq.yaml")),
        sources=SourcesFile.model_validate(_yaml(CONTENT / "sources.yaml")),
    )


@pytest.fixture(scope="module")
def matcher(content: Content) -> IntentMatcher:
    """Building jieba's dictionary takes about a second: once per module."""
    return make_matcher(content.intents, content.faq.faq)


@pytest.fixture(scope="module")
def questions() -> list[Labelled]:
    data = _yaml(QUESTIONS)
    assert isinstance(data, list), f"{QUESTIONS}: expected a list of {{q, intent}}"
    items = []
    for n, row in enumerate(data):
        assert isinstance(row, dict), f"{QUESTIONS}: item {n} is not a mapping"
        assert set(row) == {"q", "intent"}, f"{QUESTIONS}: item {n} has keys {sorted(row)}"
        assert isinstance(row["q"], str), f"{QUESTIONS}: item {n}: q must be a string"
        assert row["intent"] is None or isinstance(row["intent"], str), f"{QUESTIONS}: item {n}: bad intent"
        items.append(Labelled(row["q"], row["intent"]))
    return items


@pytest.fixture(scope="module")
def intent_ids(content: Content) -> set[str]:
    return {i.id for i in content.intents.intents} | {f"faq.{e.id}" for e in content.faq.faq}


def test_top1_accuracy(matcher: IntentMatcher, questions: list[Labelled]) -> None:
    misses = []
    for item in questions:
        text = normalize(item.q)
        found = matcher.match(text)
        got = found.intent if found else None
        if got != item.intent:
            ranked = ", ".join(f"{m.intent}={m.score:g}" for m in matcher.rank(text, limit=3)) or "nothing"
            misses.append(f"  {item.q!r}: expected {item.intent}, got {got} (ranked: {ranked})")
    accuracy = 1 - len(misses) / len(questions)
    report = f"top-1 accuracy {accuracy:.1%} over {len(questions)} questions; misses:\n" + "\n".join(misses)
    assert accuracy >= MIN_ACCURACY, report


def test_every_canonical_question_matches_its_own_entry(content: Content, matcher: IntentMatcher) -> None:
    """The questions are shown as suggestion buttons, and a tap sends the question back as a message."""
    wrong = {}
    for entry in content.faq.faq:
        found = matcher.match(normalize(entry.question))
        if found is None or found.intent != f"faq.{entry.id}":
            wrong[entry.question] = found.intent if found else None
    assert not wrong, f"canonical questions that do not match their own entry: {wrong}"


@pytest.mark.parametrize("text", ["居住证", "签注", "居住证签注", "签注居住证", "我的居住证签注", "居住证 签注 居住证"])
def test_the_permit_words_alone_answer_no_faq(matcher: IntentMatcher, text: str) -> None:
    """居住证 and 签注 stand beside every topic word at low weight; together they must not reach the threshold in
    any FAQ, or a message holding nothing else (我的居住证年审过了) is answered by whichever FAQ comes first."""
    found = matcher.match(normalize(text))
    assert found is None or not found.intent.startswith("faq."), f"{text!r} answered by {found.intent}"


def test_labelled_set_covers_every_intent(content: Content, questions: list[Labelled], intent_ids: set[str]) -> None:
    counts = Counter(item.intent for item in questions)
    unknown = sorted(str(label) for label in counts if label is not None and label not in intent_ids)
    assert not unknown, f"labels that are not intents: {unknown}"
    thin = {f"faq.{e.id}": counts[f"faq.{e.id}"] for e in content.faq.faq if counts[f"faq.{e.id}"] < MIN_PER_FAQ}
    assert not thin, f"FAQ entries labelled fewer than {MIN_PER_FAQ} times: {thin}"
    assert counts["flow.expired"] >= MIN_FLOW, f"flow.expired is labelled only {counts['flow.expired']} times"
    assert counts[None] >= MIN_NULL, f"only {counts[None]} out-of-domain (null) lines"
    assert len(questions) >= MIN_QUESTIONS, f"only {len(questions)} labelled questions"
    duplicates = sorted(q for q, n in Counter(item.q for item in questions).items() if n > 1)
    assert not duplicates, f"duplicate questions: {duplicates}"


def _typo_lines(path: Path) -> list[str]:
    """The question lines of the typos section: from its header to the next `# ---- ` header."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert TYPOS_HEADER in lines, f"{path}: no {TYPOS_HEADER!r} section"
    found = []
    for line in lines[lines.index(TYPOS_HEADER) + 1 :]:
        if line.startswith("# ---- "):
            break
        if line.startswith("- {q:"):
            found.append(line)
    return found


def _about_a_lapse(question: str) -> bool:
    text = normalize(question)  # 過期 and 到期 in Traditional characters count too
    return "过期" in text or "到期" in text


def test_the_set_holds_rule_questions_about_a_lapse_and_typos(content: Content, questions: list[Labelled]) -> None:
    """Almost every rule question holds 过期 or 到期; enough of them keep the calculation from swallowing them."""
    rule_faq = {f"faq.{e.id}" for e in content.faq.faq if not e.other_document}
    about_a_lapse = [item for item in questions if item.intent in rule_faq and _about_a_lapse(item.q)]
    assert len(about_a_lapse) >= MIN_RULE_EXPIRY, f"only {len(about_a_lapse)} rule questions with 过期/到期"
    typos = _typo_lines(QUESTIONS)
    assert len(typos) >= MIN_TYPOS, f"only {len(typos)} lines in the typos and homophones section"


def test_content_passes_the_models(content: Content) -> None:
    ids = [i.id for i in content.intents.intents] + [f"faq.{e.id}" for e in content.faq.faq]
    assert len(ids) == len(set(ids)), f"duplicate intent ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    assert {"flow.expired", "smalltalk.thanks"} <= set(ids)
    unknown_sources = {e.id: e.source for e in content.faq.faq if e.source not in content.sources.sources}
    assert not unknown_sources, f"FAQ sources missing from sources.yaml: {unknown_sources}"
    variants = {v: c for c, vs in content.intents.synonyms.items() for v in vs}
    rules = [(i.id, i.keywords) for i in content.intents.intents]
    rules += [(f"faq.{e.id}", e.keywords) for e in content.faq.faq]
    as_variant = {f"{rid}: {k}": variants[k] for rid, keywords in rules for k in keywords if k in variants}
    assert not as_variant, f"keywords that are synonym variants (use the canonical word): {as_variant}"
    too_long = [e.id for e in content.faq.faq if len(e.question) > MAX_QUESTION_CHARS]
    assert not too_long, f"questions longer than {MAX_QUESTION_CHARS} characters: {too_long}"
    too_long = [e.id for e in content.faq.faq if len(e.answer) > MAX_ANSWER_CHARS]
    assert not too_long, f"answers longer than {MAX_ANSWER_CHARS} characters: {too_long}"


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (FaqFile, {"faq": [{"id": "x", "question": "q", "keywords": {"k": 1}, "answer": "a", "source": "s",
                            "topic": "t", "extra": 1}]}),
        (IntentsFile, {"threshold": 2, "synonyms": {}, "intents": [], "unknown": True}),
    ],
)  # fmt: skip
def test_unknown_keys_are_rejected(model: type[FaqFile | IntentsFile], data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate(data)
