"""The Telegram channel: python-telegram-bot is only the transport; the engine is the only behaviour."""

import os

# Opt in to python-telegram-bot's coming time periods (RetryAfter.retry_after as a timedelta). Without it,
# PTB 22 raises a deprecation warning every time it builds a flood-control error.
os.environ.setdefault("PTB_TIMEDELTA", "true")
