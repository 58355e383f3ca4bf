"""Typed models of the content files; unknown keys are rejected."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Confidence = Literal["high", "medium", "medium-low", "low", "unverified"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """Where a figure or an answer comes from. publisher, title, accessed and confidence are required: a
    maintainer must be able to tell who said it, where, how sure we are and when somebody last read it."""

    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)  # who published the page or text read (本地宝, 国务院, a content farm...)
    url: str | None = None
    accessed: date  # the day the page or text was last read and checked, YYYY-MM-DD
    confidence: Confidence
    # Other pages that report the same rule or add detail to it; listed beside this source in the content report.
    see_also: tuple[str, ...] = ()
    note: str | None = None


class SourcesFile(Strict):
    sources: dict[str, Source]


class IntentSpec(Strict):
    id: str
    description: str
    keywords: dict[str, float] = Field(min_length=1)
    priority: int = 0


class IntentsFile(Strict):
    threshold: float = Field(gt=0)
    synonyms: dict[str, list[str]]
    intents: list[IntentSpec]


# What a FAQ answer is about, when the answer depends on the user's city: the dialog then adds that city's
# rule (its online channels, its office, its grace period...) to the general answer.
CityTopic = Literal["channels", "office", "materials", "grace", "cancel", "processing", "hours", "window"]


class FaqEntry(Strict):
    """A question the bot answers. Keyword weights may be negative: a word that points away from this
    question (打 in 打哪个号码 for the card-number question) lowers its score."""

    id: str
    question: str
    keywords: dict[str, float] = Field(min_length=1)
    answer: str
    source: str
    topic: str
    city_topic: CityTopic | None = None
    # About another document (护照, 身份证, 居留许可, 港澳台居民居住证...): answered, and never followed by a
    # 居住证 verdict or a question about the 居住证's expiry date.
    other_document: bool = False


class FaqFile(Strict):
    faq: list[FaqEntry] = Field(min_length=1)


class Fact(Strict):
    """One figure of a rule, with where it came from."""

    value: int = Field(ge=0)
    unit: Literal["days", "months"] = "days"
    source: str
    note: str | None = None


class Channel(Strict):
    name: str
    how: str
    source: str


class Rule(Strict):
    """The part of a rule that a province or city may set; unset fields inherit."""

    grace_days: Fact | None = None
    cancel_after: Fact | None = None
    # What happens past cancel_after: a new card (reapply, the default), or a new 居住登记 and a wait, after which
    # the original card is endorsed again (reregister, 河南).
    after_cancel: Literal["reapply", "reregister"] | None = None
    # The steps past cancel_after where they differ from the case text (深圳: 12 months of registration and
    # social insurance before a new application).
    reapply_steps: list[str] | None = None
    window_before: Fact | None = None
    permit: str | None = None
    office: str | None = None
    channels: list[Channel] | None = None
    rule_source: str | None = None
    notes: list[str] | None = None


class NationalRule(Strict):
    grace_days: Fact
    window_before: Fact
    permit: str
    office: str
    channels: list[Channel]
    rule_source: str
    notes: list[str] = []


class RulesFile(Strict):
    national: NationalRule
    provinces: dict[str, Rule]
    cities: dict[str, Rule]


class Processing(Strict):
    min_workdays: int = Field(ge=0)
    max_workdays: int = Field(ge=0)
    source: str
    wait_months_first: int = 0


class CaseText(Strict):
    title: str
    title_no_grace: str | None = None
    title_hedged: str | None = None
    summary: str
    summary_hedged: str | None = None
    deadline_line: str
    deadline_line_hedged: str | None = None
    deadline_line_today: str | None = None
    no_deadline_line: str | None = None
    brief: str  # one line for a range that spans several cases; placeholders {deadline} {cancel_date}
    brief_no_deadline: str | None = None
    brief_hedged: str | None = None
    card: str  # the first line of the short verdict card: case, city, countdown and deadline
    card_today: str | None = None
    card_today_hedged: str | None = None
    card_hedged: str | None = None
    card_no_deadline: str | None = None
    next_step: str  # the card's one thing to do now
    next_step_early: str | None = None  # not_expired before the endorsement window opens
    next_step_hedged: str | None = None
    todo: list[str] = Field(min_length=1)
    todo_hedged: list[str] | None = None
    materials: list[str] = Field(min_length=1)
    processing: Processing


class CasesFile(Strict):
    cases: dict[Literal["not_expired", "within_grace", "late_endorse", "reapply"], CaseText]
    reregister: CaseText


# What can be asked after a verdict card: the parts of the full verdict, and two actions that a channel offers
# only where it can do them. The first word of each is its button label; all of them are understood when typed.
DetailId = Literal["materials", "office", "channels", "processing", "notes", "sources", "remind", "calendar"]
ACTIONS: tuple[DetailId, ...] = ("remind", "calendar")


class PromptsFile(Strict):
    prompts: dict[str, str]
    choices: dict[str, list[str]]
    commands: dict[str, list[str]]
    details: dict[DetailId, list[str]]
