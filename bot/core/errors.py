"""The project's one error hierarchy.

QianzhuError
├── ContentError        content/*.yaml failed validation (names the file and the field)
└── StoreError          the state store cannot be used
    ├── StoreCorrupt    the database file is not a usable database
    ├── StoreUnavailable the database is locked or unreachable; try again later
    └── StoreConflict   other writers kept saving a conversation while a turn ran; nothing was written
"""

from __future__ import annotations


class QianzhuError(Exception):
    """Base class of every error this project raises on purpose."""


class ContentError(QianzhuError):
    """A content file is missing, unparsable or does not match its schema."""


class StoreError(QianzhuError):
    """The state store cannot be used."""


class StoreCorrupt(StoreError):
    """The store's file exists but is not a usable database; it is left untouched."""


class StoreUnavailable(StoreError):
    """The store is locked or unreachable; nothing was written."""


class StoreConflict(StoreError):
    """A turn was run again as often as allowed, and each time another writer (another process) had saved the
    conversation after the turn read it; the stored state is the other writers', untouched by this turn."""
