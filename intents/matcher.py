"""The keyword intent matcher: deterministic weighted scores over jieba tokens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from intents.tokenizer import Tokenizer

MAX_SPAN = 4  # a keyword may be split by jieba into at most this many tokens
MAX_TERM = 8  # the longest keyword looked for inside one token


@dataclass(frozen=True, slots=True)
class IntentRule:
    id: str
    keywords: Mapping[str, float]
    priority: int = 0


@dataclass(frozen=True, slots=True)
class IntentMatch:
    intent: str
    score: float
    matched: tuple[str, ...]


class IntentMatcher:
    """Scores every intent by the summed weights of its keywords found in a message.

    Synonyms are folded into their canonical term first. A keyword matches when it is a jieba token, a part
    of one (钱 in 要钱), or up to MAX_SPAN consecutive tokens joined, so segmentation does not hide it.
    Ties go to the higher priority, then to the earlier rule, so the result never depends on hashing.
    """

    def __init__(
        self,
        rules: Sequence[IntentRule],
        synonyms: Mapping[str, Sequence[str]],
        tokenizer: Tokenizer,
        threshold: float,
    ) -> None:
        self._rules = tuple(rules)
        self._tokenizer = tokenizer
        self.threshold = threshold
        self._canonical: dict[str, str] = {}
        for canonical, variants in synonyms.items():
            self._canonical[canonical] = canonical
            for variant in variants:
                self._canonical[variant] = canonical
        for rule in self._rules:
            for keyword in rule.keywords:
                self._canonical.setdefault(keyword, keyword)
        self._order = {rule.id: (-rule.priority, index) for index, rule in enumerate(self._rules)}

    def vocabulary(self) -> list[str]:
        return sorted(self._canonical)

    def terms(self, text: str) -> set[str]:
        """The canonical terms found in a normalised text."""
        tokens = self._tokenizer.tokens(text)
        found: set[str] = set()
        lookup = self._canonical.get
        for token in tokens:
            for i in range(len(token)):
                for j in range(i + 1, min(len(token), i + MAX_TERM) + 1):
                    canonical = lookup(token[i:j])
                    if canonical is not None:
                        found.add(canonical)
        for start in range(len(tokens) - 1):
            joined = ""
            for token in tokens[start : start + MAX_SPAN]:
                joined += token
                canonical = lookup(joined)
                if canonical is not None:
                    found.add(canonical)
        return found

    def rank(self, text: str, limit: int = 5) -> list[IntentMatch]:
        """The best-scoring intents, best first; intents that match nothing are left out."""
        terms = self.terms(text)
        scored: list[IntentMatch] = []
        for rule in self._rules:
            hits = tuple(sorted(k for k in rule.keywords if k in terms))
            if hits:
                scored.append(IntentMatch(rule.id, sum(rule.keywords[k] for k in hits), hits))
        scored.sort(key=lambda m: (-m.score, *self._order[m.intent]))
        return scored[:limit]

    def match(self, text: str) -> IntentMatch | None:
        """The best intent when it clears the confidence threshold, else None."""
        ranked = self.rank(text, limit=1)
        if ranked and ranked[0].score >= self.threshold:
            return ranked[0]
        return None
