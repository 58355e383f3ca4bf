"""Find the date a user mentions (居住证/签注 expiry) in a raw Chinese chat message, stdlib only."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime

from intents.date_finding import Context, DateFinding, Resolver
from intents.date_patterns import normalize
from intents.date_resolvers import ANCHORS, TIERS, Rule
from intents.date_roles import role_of
from intents.date_tense import Tense, tense_of

__all__ = [
    "DateFinding",
    "Tense",
    "best",
    "detect_tense",
    "extract_date",
    "extract_dates",
    "find_date",
    "find_dates",
    "read_dates",
]

logger = logging.getLogger(__name__)


def detect_tense(text: str) -> Tense:
    """The tense cue found anywhere in the text (the exact rules are in intents.date_tense)."""
    return tense_of(normalize(text))


def extract_date(text: str, today: date) -> DateFinding | None:
    """The date mention in `text` that most likely gives the expiry (see `best`), or None; never raises."""
    return best(extract_dates(text, today))


def extract_dates(text: str, today: date) -> list[DateFinding]:
    """Every date mention in `text` (see `find_dates`); never raises."""
    return read_dates(text, today)[0]


def read_dates(text: str, today: date) -> tuple[list[DateFinding], Tense]:
    """Every date mention in `text` and the text's tense, normalised once; never raises."""
    normalized = normalize(text)
    tense = tense_of(normalized)
    try:
        return _find(normalized, tense, today), tense
    except Exception:  # a chat bot must survive any message; reaching this is a bug, so log it loudly
        logger.exception("date extraction failed on %.200r", text)
        return [], tense


def find_date(text: str, today: date) -> DateFinding | None:
    """extract_date without the safety net (the tests call this one, so bugs are not hidden)."""
    return best(find_dates(text, today))


def best(findings: list[DateFinding]) -> DateFinding | None:
    """The mention that most likely gives the expiry: the first whose words say so, else the first found by the
    most specific pattern; an error only when nothing resolved."""
    valid = [f for f in findings if f.error is None]
    for finding in valid:
        if finding.role == "expiry":
            return finding
    return valid[0] if valid else (findings[0] if findings else None)


def find_dates(text: str, today: date) -> list[DateFinding]:
    """Every date mention in `text` that does not overlap a more specific one, most specific first, each with
    its role; when a tier finds only an error before anything resolved, that error alone."""
    normalized = normalize(text)
    return _find(normalized, tense_of(normalized), today)


def _find(normalized: str, tense: Tense, today: date) -> list[DateFinding]:
    if isinstance(today, datetime):
        today = today.date()
    anchors = frozenset(ANCHORS.findall(normalized))
    if not anchors:
        return []  # no pattern can match
    context = Context(today, tense)
    found: list[DateFinding] = []
    taken: list[tuple[int, int]] = []
    wanted = sorted({index for char in anchors for index in _RULES_BY_ANCHOR.get(char, ())})
    for tier in _tiers_of(wanted, anchors):
        matches = [(match, rule.resolve) for rule in tier for match in rule.pattern.finditer(normalized)]
        error = _collect(matches, context, normalized, found, taken)
        if error is not None and not found:
            return [error]  # 2月30日 is an impossible date, not the month 2月 of a lower tier
    return found


# Every rule, in tier order, and for each anchor character the rules that need it: a message runs only the
# rules whose characters it holds, found without testing every rule.
_FLAT: tuple[tuple[int, Rule], ...] = tuple((tier, rule) for tier, rules in enumerate(TIERS) for rule in rules)
_RULES_BY_ANCHOR: dict[str, tuple[int, ...]] = {
    char: tuple(i for i, (_, rule) in enumerate(_FLAT) if char in rule.anchor)
    for char in {char for _, rule in _FLAT for char in rule.anchor}
}


def _tiers_of(wanted: list[int], anchors: frozenset[str]) -> list[list[Rule]]:
    """The rules to run, grouped by tier in tier order, keeping only those whose second anchor set is met."""
    tiers: list[list[Rule]] = []
    last = -1
    for index in wanted:
        tier, rule = _FLAT[index]
        if rule.also and anchors.isdisjoint(rule.also):
            continue
        if tier != last:
            tiers.append([])
            last = tier
        tiers[-1].append(rule)
    return tiers


def _collect(
    matches: list[tuple[re.Match[str], Resolver]],
    context: Context,
    normalized: str,
    found: list[DateFinding],
    taken: list[tuple[int, int]],
) -> DateFinding | None:
    """Resolves one tier's matches in reading order, longest first, skipping any that overlap a mention already
    taken or lie inside one that failed (3月1日 in 1899年3月1日); returns the tier's first error."""
    first_error: DateFinding | None = None
    error_spans: list[tuple[int, int]] = []
    for match, resolve in sorted(matches, key=lambda item: (item[0].start(), -item[0].end())):
        start, end = match.span()
        if any(start < stop and begin < end for begin, stop in taken):
            continue
        if any(outer[0] <= start and end <= outer[1] and outer != (start, end) for outer in error_spans):
            continue
        finding = resolve(match, context)
        if finding is None:
            continue
        if finding.error is None:
            found.append(finding.placed(role_of(normalized, start, end), start))
            taken.append((start, end))
            continue
        error_spans.append((start, end))
        first_error = first_error or finding.placed(finding.role, start)
    return first_error
