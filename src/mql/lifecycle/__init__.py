"""The lifecycle: stages, moves, handoffs under approval, routing, SLA, outbox.

Public API (see docs/lifecycle.md):

- :class:`Lifecycle` — every move and decision, one transaction each;
  :func:`sync` applies what fell due up to an instant and says when the next is.
- :class:`Stage`, :func:`parse_stage`, :data:`NATURAL_MOVES` — the stages and moves.
- :class:`LifecycleConfig`, :func:`load_config` — owners, routing, SLA, approval,
  webhooks, from YAML.
- :class:`Dispatcher` — delivers outbox messages to webhooks, signed (:func:`verify`).
- :func:`funnel`, :func:`export_handoffs`.
"""

from mql.lifecycle.bant import Bant, Opportunity
from mql.lifecycle.calendar import (
    BusinessCalendar,
    add_business_hours,
    business_hours_between,
)
from mql.lifecycle.config import LifecycleConfig, load_config, parse_config
from mql.lifecycle.dispatch import Dispatcher, DispatchReport, deliveries
from mql.lifecycle.export import export_handoffs
from mql.lifecycle.funnel import StageFigures, funnel
from mql.lifecycle.handoffs import Handoff, HandoffStatus
from mql.lifecycle.leads import Scorer, StoredScores
from mql.lifecycle.records import INTENT_DECAYED, Actor, Snapshot, Transition
from mql.lifecycle.routing import OwnerLoad, RoutingDecision, choose_owner
from mql.lifecycle.scorers import ModelScorer
from mql.lifecycle.service import Lifecycle
from mql.lifecycle.signing import sign, verify
from mql.lifecycle.stages import NATURAL_MOVES, MoveKind, Stage, parse_stage
from mql.lifecycle.sync import SyncReport, sync

__all__ = [
    "INTENT_DECAYED",
    "NATURAL_MOVES",
    "Actor",
    "Bant",
    "BusinessCalendar",
    "DispatchReport",
    "Dispatcher",
    "Handoff",
    "HandoffStatus",
    "Lifecycle",
    "LifecycleConfig",
    "ModelScorer",
    "MoveKind",
    "Opportunity",
    "OwnerLoad",
    "RoutingDecision",
    "Scorer",
    "Snapshot",
    "Stage",
    "StageFigures",
    "StoredScores",
    "SyncReport",
    "Transition",
    "add_business_hours",
    "business_hours_between",
    "choose_owner",
    "deliveries",
    "export_handoffs",
    "funnel",
    "load_config",
    "parse_config",
    "parse_stage",
    "sign",
    "sync",
    "verify",
]
