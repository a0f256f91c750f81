"""The approval policy: a person approves unless the firm switched auto-approval on.

>>> from mql.lifecycle.config import Approval
>>> auto_approves(Approval(), score=99, grade="A")
False
>>> auto_approves(Approval(auto=True, min_grade="B", min_score=70), 80, "A")
True
"""

from __future__ import annotations

from mql.lifecycle.config import Approval

#: Grades best first, as in the scoring model.
GRADE_ORDER = ("A", "B", "C", "D")


def auto_approves(policy: Approval, score: float, grade: str) -> bool:
    """Whether the policy approves a handoff with this score and fit grade itself."""
    if not policy.auto or grade not in GRADE_ORDER:
        return False
    good_enough = GRADE_ORDER.index(grade) <= GRADE_ORDER.index(policy.min_grade)
    return good_enough and score >= policy.min_score
