"""Writing a learned points model as a model file, with the reason for each value.

The file is the same YAML as a hand-made model: fit rules with ``min``/``max``,
``in`` or ``present: false`` conditions. Comments give each bin's leads, their
conversion rate, its weight of evidence and the feature's weight, so that a
reader can see why a rule has its points and edit it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import textwrap
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from mql.learn.binning import Bin
from mql.learn.data import field_name
from mql.learn.scorecard import Feature, Pair, Scorecard
from mql.model import Model, parse_model

#: Plain YAML text needs no quotes when it looks like this.
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_. /-]*[A-Za-z0-9_.]$|^[A-Za-z]$")
#: Words YAML 1.1 reads as booleans or null, which must be quoted to stay text.
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
#: Grades below A are this many PDO steps apart (each step halves the odds).
GRADE_STEPS = (1, 2)
#: Width of the note comment lines in the model file's header.
NOTE_WIDTH = 76
#: Categories listed in a rule's label before "and N more".
LABEL_CATEGORIES = 3
#: Longest rule id the model file accepts.
MAX_RULE_ID = 80
#: The header line naming the leads file a model was learned from: its name and
#: the SHA-256 of its bytes (files written before carried its full path alone).
SOURCE_LINE = re.compile(
    r'^# Leads file: (".*?")(?:, sha256 ([0-9a-f]{64}))?$', re.MULTILINE
)


@dataclass(frozen=True)
class LeadsSource:
    """What a model file's header says of the leads file it was learned from."""

    name: str
    sha256: str | None

    def is_file(self, path: Path) -> bool:
        """Whether ``path`` holds those leads: the same bytes, or (for a header
        without a digest) the same file."""
        try:
            if self.sha256 is not None:
                return file_sha256(path) == self.sha256
            return Path(self.name).samefile(path)
        except OSError:
            return False


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True)
class ModelText:
    """A written model: its YAML text and the validated model it reads as."""

    text: str
    model: Model


def write_model(
    card: Scorecard,
    *,
    name: str,
    threshold: int,
    learned_on: date | None = None,
    note: str = "",
) -> ModelText:
    """The model file of a scorecard, with comments, validated by the loader."""
    lines = _header(card, name, threshold, learned_on, note)
    lines += _grades(card, threshold)
    lines.append("")
    lines.append("fit:")
    for feature in card.features:
        lines += _feature_rules(feature, card.missing_values)
    for pair in card.pairs:
        lines += _pair_rules(pair)
    lines += _current_rules(card)
    lines += _current_other(card)
    text = "\n".join(lines) + "\n"
    return ModelText(text=text, model=parse_model(text, source=f"<learned {name}>"))


def _header(
    card: Scorecard, name: str, threshold: int, learned_on: date | None, note: str
) -> list[str]:
    when = f" on {learned_on.isoformat()}" if learned_on else ""
    base = float(card.probability(np.array([threshold], dtype=float))[0])
    lines = [
        f"# Learned by `mql learn`{when} from {card.trained_on:,} leads with a known",
        f"# outcome ({card.positives:,} converted).",
        f"# Scale: every {_num(card.pdo)} points double the odds of converting; at "
        f"{card.even_score:.0f} points",
        "# the odds are even (1:1). log-odds = (score - "
        f"{card.even_score:.1f}) x ln 2 / {_num(card.pdo)}.",
        "# Each feature's lowest bin earns 0; a value never seen while learning",
        "# matches no rule and earns 0 too. A cut point is the shortest decimal",
        "# between the two values seen while learning that it separates: the",
        "# inclusive min/max of neighbouring bins do not meet on any value seen.",
        f"# Threshold {threshold}: a lead at the threshold converts with probability "
        f"{base:.0%}.",
    ]
    if note:
        lines += [f"# {line}" for line in textwrap.wrap(note, NOTE_WIDTH)]
    source = Path(card.source)
    if source.is_file():
        # The name and a digest, not the path: the file may move, and a model
        # file that is shared should not tell where its author keeps data.
        quoted = json.dumps(source.name, ensure_ascii=False)
        lines.append(f"# Leads file: {quoted}, sha256 {file_sha256(source)}")
    lines += [
        f"name: {_scalar(name)}",
        "description: >",
        f"  Points learned from {card.trained_on} leads of "
        f"{card.source.split('/')[-1]};",
        f"  {_num(card.pdo)} points double the odds, even odds at "
        f"{card.even_score:.0f} points.",
        "version: 1",
        f"threshold: {threshold}",
    ]
    return lines


def learned_from(text: str) -> LeadsSource | None:
    """The leads file a model file says it was learned from, if it says so."""
    match = SOURCE_LINE.search(text)
    if match is None:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return LeadsSource(value, match.group(2)) if isinstance(value, str) else None


def _grades(card: Scorecard, threshold: int) -> list[str]:
    b, c = (threshold - round(step * card.pdo) for step in GRADE_STEPS)
    return [
        "# Grades: A from the threshold; B and C each one PDO (half the odds) lower.",
        f"grades: {{A: {threshold}, B: {b}, C: {c}}}",
    ]


def _feature_rules(feature: Feature, placeholders: tuple[str, ...]) -> list[str]:
    bins = feature.bins
    key = _scalar(bins.field)
    lines = [
        "",
        f"  # {bins.field}: information value {bins.iv:.3f} ({len(bins.bins)} bins).",
    ]
    for index, (bin_, weight, raw, points) in enumerate(
        zip(bins.bins, feature.weights, feature.raw_points, feature.points, strict=True)
    ):
        lines += [
            f"  # {bin_.count:,} leads, {bin_.rate:.1%} converted (WoE "
            f"{bin_.woe:+.2f}); weight {weight:+.3f} -> {raw:.2f} points",
            f"  - id: {_rule_id(bins.field, bin_, index)}",
            f"    label: {_scalar(_label(bins.field, bin_))}",
            f"    when: {{{key}: {_condition(bin_)}}}",
            f"    points: {points}",
        ]
        if bin_.kind == "missing" and placeholders and not bins.numeric:
            lines += _placeholder_rule(bins.field, placeholders, points)
    return lines


def _pair_rules(pair: Pair) -> list[str]:
    first, second = pair.first, pair.second
    keys = _scalar(first.field), _scalar(second.field)
    lines = [
        "",
        f"  # {first.field} with {second.field}: learned together (these points add",
        "  # to both fields' own; a lead in none of these pairs of bins gets 0 here).",
    ]
    prefix = f"{field_name(first.field)[:36]}.with.{field_name(second.field)[:36]}"
    for index, ((i, j), count, events, weight, raw, points) in enumerate(
        zip(
            pair.cells,
            pair.counts,
            pair.events,
            pair.weights,
            pair.raw_points,
            pair.points,
            strict=True,
        )
    ):
        a, b = first.bins[i], second.bins[j]
        label = f"{_label(first.field, a)} & {_label(second.field, b)}"
        lines += [
            f"  # {count:,} leads, {events / count:.1%} converted; weight "
            f"{weight:+.3f} -> {raw:.2f} points",
            f"  - id: {f'{prefix}.{index + 1}'[-MAX_RULE_ID:]}",
            f"    label: {_scalar(label)}",
            f"    when: {{{keys[0]}: {_condition(a)}, {keys[1]}: {_condition(b)}}}",
            f"    points: {points}",
        ]
    return lines


def _placeholder_rule(field: str, values: tuple[str, ...], points: int) -> list[str]:
    listed = ", ".join(_scalar(v) for v in values)
    return [
        f"  # {listed} meant 'not answered' while learning: the points of missing.",
        f"  - id: {field_name(field)}.placeholder",
        f"    label: {_scalar(field + ': ' + ', '.join(values))}",
        f"    when: {{{_scalar(field)}: {{in: [{listed}]}}}}",
        f"    points: {points}",
    ]


def _current_rules(card: Scorecard) -> list[str]:
    model = card.scaled_current()
    if model is None or not model.fit:
        return []
    lines = [
        "",
        "  # The current model's fit rules, their points times "
        f"{card.current_scale:.3f}",
        "  # (its weight when learned alongside the bins above).",
    ]
    for rule in model.fit:
        when = json.dumps(rule.model_dump(by_alias=True, exclude_none=True)["when"])
        lines += [
            f"  - id: current.{rule.id}",
            *([f"    label: {_scalar(rule.label)}"] if rule.label else []),
            f"    when: {_strip_defaults(when)}",
            f"    points: {_num(rule.points)}",
        ]
    return lines


def _current_other(card: Scorecard) -> list[str]:
    """The current model's groups, intent rules and disqualifiers, scaled."""
    model = card.scaled_current()
    if model is None:
        return []
    data = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    lines = []
    # Not its total cap: that would cap the learned points too.
    for key in ("decay", "groups", "intent", "disqualifiers"):
        if data.get(key):
            value = _strip_defaults_obj(data[key])
            lines.append(f"{key}: {json.dumps(value)}")
    return ["", "# From the current model, scaled:", *lines] if lines else []


def _strip_defaults(when_json: str) -> str:
    return json.dumps(_strip_defaults_obj(json.loads(when_json)))


def _strip_defaults_obj(value: object) -> object:
    """Drop ``case_sensitive: false`` (the default) from dumped conditions."""
    if isinstance(value, dict):
        return {
            k: _strip_defaults_obj(v)
            for k, v in value.items()
            if not (k == "case_sensitive" and v is False)
        }
    if isinstance(value, list):
        return [_strip_defaults_obj(v) for v in value]
    return value


def _rule_id(field: str, bin_: Bin, index: int) -> str:
    if bin_.kind == "missing":
        return f"{field_name(field)}.missing"
    return f"{field_name(field)}.{index + 1}"


def _label(field: str, bin_: Bin) -> str:
    readable = field
    if bin_.kind == "missing":
        return f"{readable}: missing"
    if bin_.kind == "range":
        if bin_.low is None:
            return f"{readable}: below {_num(_finite(bin_.high))}"
        if bin_.high is None:
            return f"{readable}: {_num(bin_.low)} or more"
        return f"{readable}: {_num(bin_.low)} to {_num(bin_.high)}"
    shown = ", ".join(bin_.categories[:LABEL_CATEGORIES])
    more = len(bin_.categories) - LABEL_CATEGORIES
    return f"{readable}: {shown}" + (f" and {more} more" if more > 0 else "")


def _condition(bin_: Bin) -> str:
    if bin_.kind == "missing":
        return "{present: false}"
    if bin_.kind == "range":
        parts = []
        if bin_.low is not None:
            parts.append(f"min: {_num(bin_.low)}")
        if bin_.high is not None:
            parts.append(f"max: {_num(bin_.high)}")
        return "{" + ", ".join(parts) + "}"
    return "{in: [" + ", ".join(_scalar(c) for c in bin_.categories) + "]}"


def _scalar(text: str) -> str:
    """YAML for a text value: plain when safe, else double-quoted."""
    if _PLAIN.match(text) and text.casefold() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def _num(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _finite(value: float | None) -> float:
    return math.nan if value is None else value
