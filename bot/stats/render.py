"""The summary as text: for the terminal, and as Markdown for an issue or a wiki page."""

from __future__ import annotations

import re
import unicodedata

from bot.stats.summary import Question, Summary

_MARKDOWN = re.compile(r"([\\`*_\[\]<>|#])")


def _pad(text: str, width: int, right: bool = False) -> str:
    """Pads to `width` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    room = " " * max(width - used, 0)
    return room + text if right else text + room


def _period(s: Summary) -> str:
    return f"{s.first.isoformat()} 至 {s.last.isoformat()}（{s.days} 天，Asia/Shanghai）"


def _score(q: Question) -> str:
    return f"{q.score:.1f}" if q.score is not None else "-"


def _totals(s: Summary) -> list[str]:
    return [
        f"对话轮数：{s.turns}",
        f"兜底（没有答上）：{s.fallbacks} 轮，占 {s.share(s.fallbacks):.1%}",
        f"低分的 FAQ 回答：{s.weak} 轮，占 {s.share(s.weak):.1%}",
    ]


def terminal(s: Summary) -> str:
    lines = [f"签注助手统计：{_period(s)}", *_totals(s), ""]
    lines.append(f"最常见的没有答好的问题（前 {len(s.questions)} 个）：" if s.questions else "没有答好的问题：无")
    if s.questions:
        head = [_pad("次数", 6, True), _pad("本轮意图", 24), _pad("最接近的意图", 24), _pad("得分", 5, True)]
        lines.append("  " + "  ".join([*head, "问题（数字记为 0，地名记为 [地名]）"]))
    for q in s.questions:
        row = [_pad(str(q.count), 6, True), _pad(q.intent, 24), _pad(q.match or "-", 24), _pad(_score(q), 5, True)]
        lines.append("  " + "  ".join([*row, q.text]))
    lines.append("")
    lines.append("FAQ 命中次数：" if s.hits else "FAQ 命中次数：无")
    lines.extend(f"  {_pad(str(n), 6, True)}  {intent}" for intent, n in s.hits)
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def markdown(s: Summary) -> str:
    lines = [f"## 签注助手统计：{_period(s)}", "", *(f"- {line}" for line in _totals(s)), ""]
    lines += ["### 最常见的没有答好的问题", ""]
    if s.questions:
        lines += [
            "数字记为 0，地名记为 [地名]；「本轮意图」为 fallback 表示兜底，为 FAQ 表示该 FAQ 以低分回答。",
            "",
            "| 次数 | 问题 | 本轮意图 | 最接近的意图 | 得分 |",
            "|---:|---|---|---|---:|",
        ]
        lines += [
            f"| {q.count} | {_cell(q.text)} | {_cell(q.intent)} | {_cell(q.match or '-')} | {_score(q)} |"
            for q in s.questions
        ]
    else:
        lines.append("无。")
    lines += ["", "### FAQ 命中次数", ""]
    if s.hits:
        lines += ["| FAQ | 次数 |", "|---|---:|", *(f"| {_cell(intent)} | {n} |" for intent, n in s.hits)]
    else:
        lines.append("无。")
    return "\n".join(lines) + "\n"
