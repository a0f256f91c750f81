"""The one exception hierarchy of mql.

Every error that mql raises on purpose derives from :class:`MqlError`::

    MqlError
    ├── ModelError          a scoring model that cannot be used (file, line, fix)
    ├── InputError          input data that cannot be read at all (file, line, field)
    ├── StoreError          the database refused or is not at the expected version
    ├── ScoringError        a score asked of a lead state that cannot give it
    │   └── LateEventError  an event older than the lead's last activity: replay
    ├── LifecycleError      a stage move that is not allowed, or an unknown stage
    ├── LearnError          a learned model that does not score as it was learned
    └── EngineError         a batch engine that is missing or failed

Messages say what was attempted, on which input, what was received and what to do.
Row-level problems during an import are not exceptions: the row goes to quarantine
with its reason and the batch goes on.
"""

from __future__ import annotations


class MqlError(Exception):
    """Base class of every error mql raises on purpose."""


class ModelError(MqlError):
    """A scoring model file or object is invalid.

    ``source`` is the file (or ``<string>``), ``line`` the 1-based line of the
    offending key when known.
    """

    def __init__(self, message: str, source: str = "<model>", line: int | None = None):
        self.source = source
        self.line = line
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")
        self.detail = message


class InputError(MqlError):
    """Input that cannot be read at all (missing file, unknown format, bad mapping)."""


class StoreError(MqlError):
    """The store cannot be opened, migrated or written."""


class ScoringError(MqlError):
    """A lead state cannot answer what was asked (e.g. a read before its last event)."""


class LateEventError(ScoringError):
    """An event older than the lead's last activity: replay the lead's history.

    ``event_id`` and ``event_at`` name the event, ``last_activity`` the state's clock.
    """

    def __init__(self, message: str, event_id: str, event_at: object, last: object):
        self.event_id = event_id
        self.event_at = event_at
        self.last_activity = last
        super().__init__(message)


class LearnError(MqlError):
    """A learned model that the scoring engine does not score as the learner did."""


class LifecycleError(MqlError):
    """A lifecycle move that is not allowed, or a name that is not a stage."""


class EngineError(MqlError):
    """A batch engine is not available or failed to run an expression."""
