"""Model files that cannot be used are refused with the file, the line and a fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mql.errors import ModelError
from mql.model import load_model, load_template, parse_model, template_path

BASE = "name: t\nthreshold: 50\ngroups: [{id: web}]\n"
FIT = BASE + "fit:\n  - id: a\n    when: {title: x}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            BASE + "threshhold: 5\n",
            "m.yaml:4: threshhold: unknown key; did you mean 'threshold'? known keys "
            "here: name, description",
            id="unknown-top-key",
        ),
        pytest.param(
            FIT + "    pionts: 3\n",
            "m.yaml:7: fit.0.pionts: unknown key; did you mean 'points'? known keys "
            "here: id, label, when, points (and 1 more problem)",
            id="misspelt-key-before-missing",
        ),
        pytest.param(
            BASE + "fit:\n  - id: a\n    when: {title: {regx: x}}\n    points: 3\n",
            "m.yaml:6: fit.0.when.title.regx: unknown key; did you mean 'regex'? "
            "known keys here: equals, in, min, max",
            id="unknown-condition-kind",
        ),
        pytest.param(
            BASE + "intent:\n  - id: v\n    event: [page_view, page_view]\n"
            "    points: 5\n    group: web\n    repeat: every\n",
            "m.yaml:6: intent.0.event: event types ['page_view'] are listed more than "
            "once",
            id="event-type-twice",
        ),
        pytest.param(
            BASE + "decay: {rate: 0.2, grace: 3}\n",
            "m.yaml:4: decay.grace: unknown key; did you mean 'grace_days'?",
            id="unknown-decay-key",
        ),
        pytest.param(
            FIT + "    points: lots\n",
            "m.yaml:7: fit.0.points: Input should be a valid number; got 'lots'. "
            "Fix: give points as a number",
            id="wrong-type",
        ),
        pytest.param(
            "name: t\nthreshold: high\n",
            "m.yaml:2: threshold: Input should be a valid number; got 'high'. "
            "Fix: give the score at which",
            id="threshold-not-a-number",
        ),
        pytest.param(
            BASE + "decay:\n  rate: 1.5\n",
            "m.yaml:5: decay.rate: Input should be less than 1; got 1.5. Fix: give "
            "the share lost per period, from 0 (no decay) to below 1, e.g. 0.25",
            id="rate-above-one",
        ),
        pytest.param(
            BASE + "decay: {rate: -0.1}\n",
            "m.yaml:4: decay.rate: Input should be greater than or equal to 0; "
            "got -0.1",
            id="rate-below-zero",
        ),
        pytest.param(
            BASE + "decay: {period_days: 0}\n",
            "m.yaml:4: decay.period_days: Input should be greater than 0; got 0",
            id="period-zero",
        ),
        pytest.param(
            "name: t\nthreshold: 50\ngroups:\n  - id: web\n    cap: 5\n    floor: 10\n",
            "m.yaml:6: groups.0.floor: floor 10 is above 0: it would give every lead "
            "10 points in group 'web' with no event at all; a floor only limits "
            "penalties, so give 0 or a negative number (e.g. floor: -30)",
            id="cap-below-positive-floor",
        ),
        pytest.param(
            "name: t\nthreshold: 50\ngroups:\n  - id: web\n    cap: -10\n"
            "    floor: -20\n",
            "m.yaml:5: groups.0.cap: cap -10 is below 0: it would take 10 points "
            "from every lead in group 'web' with no event at all; a cap only limits "
            "positive points, so give 0 or more (e.g. cap: 30)",
            id="negative-cap-above-floor",
        ),
        pytest.param(
            "name: t\nthreshold: 60\ntotal_cap: 50\n",
            "m.yaml:3: total_cap: total_cap 50 is below the threshold 60: no lead "
            "could ever be an MQL; raise total_cap to at least 60, lower the "
            "threshold, or leave total_cap out",
            id="total-cap-below-threshold",
        ),
        pytest.param(
            "name: t\nthreshold: 0\n",
            "m.yaml:2: threshold: threshold 0 is not above 0: every lead with no fit "
            "and no activity would be an MQL; give the score at which a lead is "
            "worth a salesperson's call, e.g. threshold: 60",
            id="threshold-zero",
        ),
        pytest.param(
            "name: t\nthreshold: -5\n",
            "m.yaml:2: threshold: threshold -5 is not above 0",
            id="threshold-negative",
        ),
        pytest.param(
            "name: t\nthreshold: '60'\n",
            "m.yaml:2: threshold: Input should be a valid number; got '60' (a quoted "
            "number is text: write it without quotes). Fix: give the score at which",
            id="threshold-quoted",
        ),
        pytest.param(
            FIT + "    points: true\n",
            "m.yaml:7: fit.0.points: Input should be a valid number; got True (true "
            "and false are not numbers). Fix: give points as a number",
            id="points-boolean",
        ),
        pytest.param(
            "name: t\nthreshold: 50\nversion: '2'\n",
            "m.yaml:3: version: Input should be a valid integer; got '2' (a quoted "
            "number is text: write it without quotes)",
            id="version-quoted",
        ),
        pytest.param(
            "name: t\nthreshold: 50\naccount: {top_n: 2.5}\n",
            "m.yaml:3: account.top_n: Input should be a valid integer; got 2.5",
            id="top-n-fraction",
        ),
        pytest.param(
            BASE + "fit:\n  - id: a\n    when: {url: {glob: '*/fees[abc'}}\n"
            "    points: 3\n",
            "m.yaml:6: fit.0.when.url.glob: glob '*/fees[abc' opens a character class "
            "at position 6 with '[' but never closes it with ']', so the '[' would be "
            "matched as a plain character; close the class (e.g. '[abc]') or write "
            "a literal '[' as '[[]'",
            id="glob-unclosed-class",
        ),
        pytest.param(
            BASE + "fit:\n  - {id: a, when: {t: x}, points: 1}\n"
            "  - {id: a, when: {t: y}, points: 2}\n",
            "m.yaml:6: fit.1.id: rule id 'a' is used twice (fit[0] and fit[1]); "
            "every fit, intent and disqualifier rule needs its own id: rename one",
            id="duplicate-rule-id",
        ),
        pytest.param(
            BASE + "fit:\n  - {id: a, when: {t: x}, points: 1}\n"
            "disqualifiers:\n  - {id: a, when: {t: y}, reason: r}\n",
            "m.yaml:7: disqualifiers.0.id: rule id 'a' is used twice (fit[0] and "
            "disqualifiers[0])",
            id="duplicate-rule-id-across-sections",
        ),
        pytest.param(
            "name: t\nthreshold: 50\ngroups:\n  - {id: web}\n  - {id: web}\n",
            "m.yaml:5: groups.1.id: group id 'web' is declared twice; keep one",
            id="duplicate-group",
        ),
        pytest.param(
            BASE + "fit:\n  - id: a\n    when: {title: {regex: '(cfo'}}\n"
            "    points: 3\n",
            "m.yaml:6: fit.0.when.title.regex: regex '(cfo' does not compile: "
            "missing ), unterminated subpattern at position 0. Escape special",
            id="bad-regex",
        ),
        pytest.param(
            BASE + "intent:\n  - {id: a, event: view, points: 1, group: web}\n",
            "m.yaml:5: intent.0.repeat: required key is missing; add `repeat:`",
            id="missing-repeat",
        ),
        pytest.param(
            BASE + "intent:\n  - {id: a, event: v, points: 1, group: web, "
            "repeat: sometimes}\n",
            "m.yaml:5: intent.0.repeat: repeat 'sometimes' is not a mode; use every, "
            "once, {once_per: PROPERTY} or {min_count: N}",
            id="bad-repeat",
        ),
        pytest.param(
            BASE + "intent:\n  - {id: a, event: v, points: 1, group: web, "
            "repeat: {min_count: 0}}\n",
            "m.yaml:5: intent.0.repeat: Input should be greater than or equal "
            "to 1; got 0. Fix: use every, once, {once_per: PROPERTY} or "
            "{min_count: N} with N >= 1",
            id="min-count-zero",
        ),
        pytest.param(
            BASE + "intent:\n  - id: a\n    event: v\n    points: 1\n"
            "    group: news\n    repeat: every\n",
            "m.yaml:8: intent.0.group: intent rule 'a' uses the undeclared group "
            "'news'; declare it under groups: (known: web)",
            id="undeclared-group",
        ),
        pytest.param(
            "name: t\n",
            "m.yaml:1: threshold: required key is missing; add `threshold:`",
            id="missing-threshold",
        ),
        pytest.param(
            FIT.replace("{title: x}", "{title: {equals: x, contains: y}}")
            + "    points: 3\n",
            "m.yaml:6: fit.0.when.title: a condition needs exactly one of equals, in, "
            "min/max, contains, regex, glob, present; got equals, contains",
            id="two-condition-kinds",
        ),
        pytest.param(
            FIT.replace("{title: x}", "{n: {min: 9, max: 1}}") + "    points: 3\n",
            "m.yaml:6: fit.0.when.n.min: min 9.0 is above max 1.0; swap them",
            id="min-above-max",
        ),
        pytest.param(
            "name: t\nthreshold: 5\nmin_grade: E\n",
            "m.yaml:3: min_grade: Input should be 'A', 'B', 'C' or 'D'; got 'E'. "
            "Fix: use A, B, C or D",
            id="bad-grade",
        ),
        pytest.param(
            "name: t\nthreshold: 5\ngrades: {A: 10, B: 20, C: 5}\n",
            "m.yaml:3: grades: grade bands must satisfy A >= B >= C; got A=10.0",
            id="grade-bands-out-of-order",
        ),
        pytest.param(
            FIT.replace("{title: x}", "{title: {equals: {a: 1}}}") + "    points: 3\n",
            "m.yaml:6: fit.0.when.title.equals: Input should be a valid string. "
            "Fix: give text, a number or true/false",
            id="equals-a-mapping",
        ),
        pytest.param(
            BASE + "fit:\n  - id: 'a b'\n    when: {title: x}\n    points: 3\n",
            "m.yaml:5: fit.0.id: String should match pattern '^[A-Za-z0-9_.-]+$'; "
            "got 'a b'. Fix: use letters, digits",
            id="rule-id-with-space",
        ),
        pytest.param(
            BASE + "fit: {id: a}\n",
            "m.yaml:4: fit: Input should be a list (one '- ' per item)",
            id="section-not-a-list",
        ),
        pytest.param(
            "name: t\nthreshold: 50\nthreshold: 40\n",
            "m.yaml:3: key 'threshold' appears twice in the same mapping; keep one",
            id="duplicate-key",
        ),
        pytest.param(
            "name: t\nthreshold: [50\n",
            "m.yaml:3: not valid YAML",
            id="bad-yaml",
        ),
        pytest.param(
            "- a\n",
            "m.yaml:1: a model must be a mapping",
            id="not-a-mapping",
        ),
        pytest.param("", "m.yaml: the model is empty", id="empty"),
    ],
)
def test_invalid_model_is_refused_with_line_and_fix(text: str, message: str):
    with pytest.raises(ModelError, match="^" + re.escape(message)):
        parse_model(text, source="m.yaml")


def test_error_carries_source_and_line():
    with pytest.raises(ModelError) as caught:
        parse_model(BASE + "decay:\n  rate: 2\n", source="firm.yaml")
    assert (caught.value.source, caught.value.line) == ("firm.yaml", 5)
    assert caught.value.detail.startswith("decay.rate:")


def test_missing_file_says_what_to_do(tmp_path: Path):
    with pytest.raises(ModelError, match=r"cannot read the model file .* `mql init`"):
        load_model(tmp_path / "nope.yaml")


def test_unknown_template_lists_the_choices():
    with pytest.raises(ModelError, match=r"unknown template 'tax'; choose one of cpa"):
        template_path("tax")


def test_shorthands_and_aliases():
    model = parse_model(
        BASE
        + "fit:\n  - {id: a, when: {country: [DE, FR], size: 200}, points: 1}\n"
        + "intent:\n  - {id: b, event: v, points: 1, group: web, "
        + "repeat: {once_per: asset}}\n"
    )
    when = model.fit[0].when
    assert when["country"].kind == "in"
    assert when["size"].kind == "equals"
    assert model.intent[0].repeat.key == "asset"
    assert model.intent[0].event == ("v",)


def test_templates_load_through_the_public_function():
    assert load_template("cpa").name == "cpa"


def test_block_style_points_at_the_offending_line():
    text = (
        "name: t\n"
        "threshold: 50\n"
        "fit:\n"
        "  - id: a\n"
        "    when:\n"
        "      title:\n"
        "        regex: '(cfo'\n"
        "    points: 3\n"
    )
    with pytest.raises(ModelError, match=r"^m\.yaml:7: fit\.0\.when\.title\.regex:"):
        parse_model(text, source="m.yaml")
