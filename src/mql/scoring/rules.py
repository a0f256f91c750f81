"""Which intent rules an event matches, and which of them give points."""

from __future__ import annotations

from mql.model.schema import IntentRule, Model
from mql.scoring.compiled import compiled
from mql.scoring.engine import step
from mql.scoring.events import Event
from mql.scoring.state import LeadState


def matching_rules(model: Model, event: Event) -> list[IntentRule]:
    """The intent rules an event matches (its type listed, every ``where`` holding).

    An event that matches at least one rule is activity: it restarts the lead's
    inactivity clock even when no rule gives points (repeat modes).
    """
    return compiled(model).matching(event)


def fires(model: Model, state: LeadState, event: Event) -> list[IntentRule]:
    """The rules that would give points for this event, given the lead's state.

    Raises LateEventError like apply_event when the event is older than the
    lead's last activity.
    """
    return [item.rule for item in step(compiled(model), state, event)[1]]
