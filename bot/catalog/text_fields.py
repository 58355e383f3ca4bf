"""Checks shared by the channels' text files: every string of a nested model, and the placeholders each may use."""

from __future__ import annotations

import string
from collections.abc import Set
from typing import Any


def text_fields(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """(dotted path, text) of every string in a model dump, nested sections included."""
    found: list[tuple[str, str]] = []
    for name, value in data.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            found += text_fields(value, f"{path}.")
        elif isinstance(value, str):
            found.append((path, value))
    return found


def check_placeholders(path: str, text: str, allowed: Set[str]) -> None:
    """Raises ValueError, naming `path`, when `text` uses a placeholder outside `allowed` or has bad braces."""
    try:
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{path}: bad placeholder syntax: {exc}") from exc
    if used - allowed:
        raise ValueError(f"{path}: unknown placeholder(s) {sorted(used - allowed)}; allowed: {sorted(allowed)}")
