"""Builds the intent matcher from the intents and FAQ content."""

from __future__ import annotations

from collections.abc import Iterable

from bot.catalog.models import FaqEntry, IntentsFile
from intents.matcher import IntentMatcher, IntentRule
from intents.tokenizer import Tokenizer


def intent_rules(intents: IntentsFile, faq: Iterable[FaqEntry]) -> list[IntentRule]:
    rules = [IntentRule(i.id, i.keywords, i.priority) for i in intents.intents]
    rules += [IntentRule(f"faq.{e.id}", e.keywords) for e in faq]
    return rules


def make_matcher(intents: IntentsFile, faq: Iterable[FaqEntry], extra_vocabulary: Iterable[str] = ()) -> IntentMatcher:
    """The matcher with a jieba dictionary made of every keyword, synonym and place name."""
    rules = intent_rules(intents, faq)
    words = set(extra_vocabulary) | set(intents.synonyms)
    words |= {v for vs in intents.synonyms.values() for v in vs}
    words |= {k for rule in rules for k in rule.keywords}
    return IntentMatcher(rules, intents.synonyms, Tokenizer(words), intents.threshold)
