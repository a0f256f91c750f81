"""An account's score rolled up from the scores of its leads (``model.account``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mql.model.schema import Model
from mql.scoring.results import Score


@dataclass(frozen=True)
class AccountScore:
    """An account's score, how many leads it has, how many are engaged or MQLs.

    Disqualified leads are counted in ``leads`` but add nothing to the score and
    are not engaged: a student or competitor at an account says nothing of its
    interest.
    """

    score: float
    method: str
    leads: int
    engaged_contacts: int
    mqls: int

    def to_dict(self) -> dict[str, Any]:
        """The account score as plain JSON types."""
        return {
            "score": self.score,
            "method": self.method,
            "leads": self.leads,
            "engaged_contacts": self.engaged_contacts,
            "mqls": self.mqls,
        }


def account_rollup(model: Model, scores: Iterable[Score]) -> AccountScore:
    """Roll lead scores up to their account: sum of the top n, or the best one.

    >>> from mql.model import parse_model
    >>> model = parse_model("name: t\\nthreshold: 50\\naccount: {top_n: 2}\\n")
    >>> account_rollup(model, []).score
    0.0
    """
    rollup = model.account
    all_scores = list(scores)
    counted = [s for s in all_scores if s.disqualified_reason is None]
    values = sorted((s.score for s in counted), reverse=True)
    if rollup.method == "max":
        total = values[0] if values else 0.0
    else:
        total = math.fsum(values[: rollup.top_n])
    return AccountScore(
        score=total,
        method=rollup.method,
        leads=len(all_scores),
        engaged_contacts=sum(s.intent > rollup.engaged_min_intent for s in counted),
        mqls=sum(s.mql for s in counted),
    )
