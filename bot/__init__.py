"""签注助手: a chat bot for lapsed or lapsing residence-permit endorsements."""

__version__ = "0.1.0"
