"""The keyword intent matcher: deterministic weighted scores over jieba tokens."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from intents.pinyin import Homophones
from intents.tokenizer import Tokenizer

MAX_SPAN = 4  # a keyword may be split by jieba into at most this many tokens
MAX_TERM = 8  # the longest keyword looked for inside one token
TOKEN_MEMO = 50_000  # distinct tokens remembered by the matcher
CLAUSE_MEMO = 50_000  # distinct clauses remembered by the matcher
# A day, a month or a count of days, weeks, months or years; not 60天内 or 12345, which are keywords.
_DATE_DIGITS = re.compile(r"(?<![0-9])[0-9]{1,3}(?=[月号日]|个?(?:多|来)?(?:天|周|星期|个月|年)(?!内|以内|之内))")
_DIGIT = re.compile(r"[0-9]")
# Where jieba itself cuts a text into blocks (it keeps . % - + # & _ inside blocks: 2026.3.5 stays whole).
_CLAUSES = re.compile(r"[\s,!?;:，。！？；：、~…（）()\[\]【】「」“”\"']+")


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
        self._prefixes = {term[:n] for term in self._canonical for n in range(1, len(term))}
        self._token_terms: dict[str, frozenset[str]] = {}
        self._clause_memo: dict[str, frozenset[str]] = {}
        self._postings: dict[str, list[tuple[int, float]]] = {}  # term -> (rule index, weight)
        for index, rule in enumerate(self._rules):
            for keyword, weight in rule.keywords.items():
                self._postings.setdefault(keyword, []).append((index, weight))
        self._homophones = Homophones(self._canonical)
        self._keyword_sets = [frozenset(rule.keywords) for rule in self._rules]
        self._neg_priority = [-rule.priority for rule in self._rules]

    def vocabulary(self) -> list[str]:
        return sorted(self._canonical)

    def terms(self, text: str) -> set[str]:
        """The canonical terms found in a normalised text.

        jieba segments each run between punctuation on its own, so the text is read clause by clause, and a
        clause's terms are remembered: typed messages rarely repeat whole, but their clauses do (怎么办, 我在上海,
        签注过期了).
        """
        found: set[str] = set()
        for clause in _CLAUSES.split(text):
            if clause:
                # The numbers of a date or a duration hold no keyword: 10月20号 and 3月5号, 过期3天 and 过期15天
                # read alike, so clauses that differ only in them share one memo entry.
                found |= self._clause_terms(_DATE_DIGITS.sub("0", clause) if _DIGIT.search(clause) else clause)
        return found

    def _clause_terms(self, clause: str) -> frozenset[str]:
        known = self._clause_memo.get(clause)
        if known is None:
            known = frozenset(self._scan(clause))
            if len(self._clause_memo) >= CLAUSE_MEMO:
                self._clause_memo.clear()
            self._clause_memo[clause] = known
        return known

    def _scan(self, text: str) -> set[str]:
        tokens = self._tokenizer.tokens(text)
        found: set[str] = set()
        for token in tokens:
            found |= self._within(token)
        lookup, prefixes = self._canonical.get, self._prefixes
        for start in range(len(tokens) - 1):
            joined = tokens[start]
            for token in tokens[start + 1 : start + MAX_SPAN]:
                if joined not in prefixes:
                    break
                joined += token
                canonical = lookup(joined)
                if canonical is not None:
                    found.add(canonical)
        return found

    def _within(self, token: str) -> frozenset[str]:
        """The terms inside one token; tokens repeat across messages, so the answer is remembered."""
        known = self._token_terms.get(token)
        if known is None:
            lookup = self._canonical.get
            known = frozenset(
                canonical
                for i in range(len(token))
                for j in range(i + 1, min(len(token), i + MAX_TERM) + 1)
                if (canonical := lookup(token[i:j])) is not None
            )
            if len(self._token_terms) >= TOKEN_MEMO:
                self._token_terms.clear()
            self._token_terms[token] = known
        return known

    def rank(self, text: str, limit: int = 3) -> list[IntentMatch]:
        """The best-scoring intents, best first; intents whose score is not positive are left out.

        When the message holds keywords but no intent reaches the threshold, keywords spelled with homophones
        (居住正, 签著) are added and the message is scored again.
        """
        terms = self.terms(text)
        scores = self._scores(terms)
        if terms and (not scores or max(scores.values()) < self.threshold):
            # Only a message that already holds a keyword is read for homophones: 周末去哪玩 is no typo of 去拿.
            extra = self._homophones.find(text, terms, self._tokenizer.is_word)
            if extra:
                terms |= extra
                scores = self._scores(terms)
        # Negative weights only ever lower a score; ties go to the higher priority, then to the earlier rule.
        neg_priority = self._neg_priority
        best = sorted([(-score, neg_priority[i], i) for i, score in scores.items() if score > 0])[:limit]
        return [
            IntentMatch(self._rules[i].id, -neg, tuple(sorted(terms.intersection(self._keyword_sets[i]))))
            for neg, _, i in best
        ]

    def _scores(self, terms: set[str]) -> dict[int, float]:
        scores: dict[int, float] = {}
        for term in terms:
            for index, weight in self._postings.get(term, ()):
                scores[index] = scores.get(index, 0.0) + weight
        return scores

    def match(self, text: str) -> IntentMatch | None:
        """The best intent when it clears the confidence threshold, else None."""
        ranked = self.rank(text, limit=1)
        if ranked and ranked[0].score >= self.threshold:
            return ranked[0]
        return None
