"""Find the date a user mentions (居住证/签注 expiry) in a raw Chinese chat message, stdlib only."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime

from intents.date_finding import Context, DateFinding, Resolver
from intents.date_patterns import normalize
from intents.date_resolvers import ANCHORS, TIERS
from intents.date_tense import Tense, tense_of

__all__ = ["DateFinding", "Tense", "detect_tense", "extract_date", "find_date"]

logger = logging.getLogger(__name__)


def detect_tense(text: str) -> Tense:
    """The tense cue found anywhere in the text (the exact rules are in intents.date_tense)."""
    return tense_of(normalize(text))


def extract_date(text: str, today: date) -> DateFinding | None:
    """The most specific, then the first, date mention in `text`, or None; never raises."""
    try:
        return find_date(text, today)
    except Exception:  # a chat bot must survive any message; reaching this is a bug, so log it loudly
        logger.exception("date extraction failed on %.200r", text)
        return None


def find_date(text: str, today: date) -> DateFinding | None:
    """extract_date without the safety net (the tests call this one, so bugs are not hidden)."""
    if isinstance(today, datetime):
        today = today.date()
    normalized = normalize(text)
    anchors = frozenset(ANCHORS.findall(normalized))
    if not anchors:
        return None  # no pattern can match
    context = Context(today, tense_of(normalized))
    for rules in TIERS:
        matches = [
            (match, rule.resolve)
            for rule in rules
            if not anchors.isdisjoint(rule.anchor) and (not rule.also or not anchors.isdisjoint(rule.also))
            for match in rule.pattern.finditer(normalized)
        ]
        if (found := _best(matches, context)) is not None:
            return found
    return None


def _best(matches: list[tuple[re.Match[str], Resolver]], context: Context) -> DateFinding | None:
    """The first valid finding, else the first error; a mention inside a longer one that resolved
    (3月1日 in 1899年3月1日) is skipped. Resolving lazily keeps long messages cheap."""
    first_error: DateFinding | None = None
    error_spans: list[tuple[int, int]] = []
    for match, resolve in sorted(matches, key=lambda item: (item[0].start(), -item[0].end())):
        start, end = match.span()
        if any(outer[0] <= start and end <= outer[1] and outer != (start, end) for outer in error_spans):
            continue
        finding = resolve(match, context)
        if finding is None:
            continue
        if finding.error is None:
            return finding  # a valid finding covers everything after it: nothing later can win
        error_spans.append((start, end))
        first_error = first_error or finding
    return first_error
