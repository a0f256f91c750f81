"""The scoring model: schema, YAML loading with line numbers, templates."""

from mql.model.bounds import fit_ceiling
from mql.model.loader import (
    TEMPLATES,
    load_model,
    load_template,
    parse_model,
    template_path,
)
from mql.model.schema import (
    GRADES,
    AccountRollup,
    AttributeRule,
    Condition,
    Decay,
    Disqualifier,
    FitRule,
    Grades,
    Group,
    IntentRule,
    Model,
    Repeat,
    RuleBase,
)

__all__ = [
    "GRADES",
    "TEMPLATES",
    "AccountRollup",
    "AttributeRule",
    "Condition",
    "Decay",
    "Disqualifier",
    "FitRule",
    "Grades",
    "Group",
    "IntentRule",
    "Model",
    "Repeat",
    "RuleBase",
    "fit_ceiling",
    "load_model",
    "load_template",
    "parse_model",
    "template_path",
]
