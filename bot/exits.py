"""Every exit code the `qianzhu` commands use, in one table, so a supervisor can tell what happened.

| code | meaning                                                         | worth restarting? |
|------|-----------------------------------------------------------------|-------------------|
| 0    | done; also a clean stop after SIGTERM or SIGINT                  | –                 |
| 1    | `content check` or `replay` found problems; an unexpected error  | yes               |
| 2    | a content file is wrong (also argparse's code for bad arguments) | no                |
| 3    | the store cannot be used (corrupt, unreadable, newer schema)     | no                |
| 4    | configuration: a setting is missing or wrong, a token refused    | no                |
| 5    | the Telegram Bot API could not be reached at start-up            | yes               |
| 6    | `serve` cannot listen on its address (the port is in use)       | yes               |
| 7    | the store is locked by another process at start-up               | yes               |
| 130  | Ctrl-C in an interactive command (`chat`)                        | –                 |
"""

from __future__ import annotations

OK = 0
FAILED = 1
CONTENT = 2
STORE = 3
CONFIG = 4
TELEGRAM_UNREACHABLE = 5
CANNOT_LISTEN = 6
STORE_BUSY = 7
INTERRUPTED = 130
