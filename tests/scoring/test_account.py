"""Account roll-up: top n sum or max, engaged contacts, disqualified leads."""

from __future__ import annotations

import pytest

from mql.scoring import account_rollup, score

from ._support import day, ev, model


def account_model(rollup: str) -> object:
    return model(
        f"""
        name: a
        threshold: 50
        decay: {{rate: 0}}
        account: {rollup}
        groups: [{{id: web}}]
        fit: [{{id: cfo, when: {{title: CFO}}, points: 20}}]
        intent:
          - {{id: fees, event: view, points: 10, group: web, repeat: every}}
        disqualifiers:
          - {{id: student, when: {{email_domain: {{glob: '*.edu'}}}}, reason: student}}
        """
    )


LEADS = [  # (title, domain, views) -> scores 60, 30, 20, 10, 0 and a student's 90
    ("CFO", "a.com", 4),
    ("CFO", "a.com", 1),
    ("Analyst", "a.com", 2),
    ("Analyst", "a.com", 1),
    ("Analyst", "a.com", 0),
    ("CFO", "uni.edu", 7),
]


@pytest.mark.parametrize(
    ("rollup", "expected", "engaged"),
    [
        ("{method: top_n, top_n: 3}", 110.0, 4),
        ("{method: top_n, top_n: 1}", 60.0, 4),
        ("{method: max}", 60.0, 4),
        ("{method: top_n, top_n: 10, engaged_min_intent: 10}", 120.0, 2),
    ],
)
def test_rollup(rollup: str, expected: float, engaged: int):
    m = account_model(rollup)
    scores = [
        score(
            m,
            {"title": title, "email_domain": domain},
            [ev(f"{n}-{i}", "view", i) for i in range(views)],
            day(30),
        )
        for n, (title, domain, views) in enumerate(LEADS)
    ]
    result = account_rollup(m, scores)
    assert result.score == expected
    assert result.engaged_contacts == engaged
    assert result.leads == 6
    assert result.mqls == 1
