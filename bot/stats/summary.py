"""Sums a period's traffic records into what the editors read: totals, the top unanswered questions, FAQ hits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.store.traffic import Traffic

FALLBACK = "fallback"
TOP = 20


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    intent: str  # "fallback", or the FAQ that answered with a low score
    match: str | None  # the best-ranked intent, on the latest day it was asked
    score: float | None
    count: int


@dataclass(frozen=True)
class Summary:
    first: date
    last: date
    turns: int
    fallbacks: int
    weak: int  # FAQ answers of low score
    questions: tuple[Question, ...]  # the most frequent, most first
    hits: tuple[tuple[str, int], ...]  # FAQ intent and its turns, most first

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def share(self, part: int) -> float:
        return part / self.turns if self.turns else 0.0


def summarise(traffic: Traffic, first: date, last: date, top: int = TOP) -> Summary:
    """The records of the days first..last; a question asked on several days is one, its counts summed."""
    turns = {key: n for key, n in traffic.turns.items() if first <= key[0] <= last}
    grouped: dict[tuple[str, str], Question] = {}
    for record in sorted(traffic.asked, key=lambda r: r.day):  # the latest day's match and score win
        if not first <= record.day <= last:
            continue
        a = record.asked
        before = grouped.get((a.text, a.intent))
        count = record.count + (before.count if before else 0)
        grouped[(a.text, a.intent)] = Question(a.text, a.intent, a.match, a.score, count)
    questions = sorted(grouped.values(), key=lambda q: (-q.count, q.text, q.intent))
    hits: dict[str, int] = {}
    for (_, intent), n in turns.items():
        if intent.startswith("faq."):
            hits[intent] = hits.get(intent, 0) + n
    return Summary(
        first=first,
        last=last,
        turns=sum(turns.values()),
        fallbacks=sum(n for (_, intent), n in turns.items() if intent == FALLBACK),
        weak=sum(q.count for q in questions if q.intent != FALLBACK),
        questions=tuple(questions[:top]),
        hits=tuple(sorted(hits.items(), key=lambda item: (-item[1], item[0]))),
    )
