"""Points learned from outcomes: an editable points model, its proof, threshold advice.

``learn`` fits a points model to leads with a known outcome, writes it in the
model file format, and proves it on held-out leads scored by the scoring engine;
``evaluate_model`` gives the same figures for any model; ``advise`` recommends a
threshold from sales capacity or a target recall or precision.
"""

from mql.learn.data import LeadData, field_name, from_frame, from_records, read_leads
from mql.learn.evaluate import (
    EngineScores,
    Evaluation,
    engine_scores,
    evaluate_model,
    evaluate_scores,
)
from mql.learn.leakage import LEAKY_AUC, Finding, find_leaks, guard
from mql.learn.learner import CrossValidation, Options, Result, learn, split
from mql.learn.metrics import Metrics, measure
from mql.learn.public import RECIPES, bank_marketing, recipe, x_education
from mql.learn.report import html_report, learn_html, learn_text, text_report
from mql.learn.scorecard import DEFAULT_PDO, FEW_POSITIVES, Scorecard, learn_scorecard
from mql.learn.stored import evaluate_stored, from_store, stored_scores
from mql.learn.threshold import Advice, Goal, Point, advise, trade_off
from mql.learn.writer import ModelText, write_model

__all__ = [
    "DEFAULT_PDO",
    "FEW_POSITIVES",
    "LEAKY_AUC",
    "RECIPES",
    "Advice",
    "CrossValidation",
    "EngineScores",
    "Evaluation",
    "Finding",
    "Goal",
    "LeadData",
    "Metrics",
    "ModelText",
    "Options",
    "Point",
    "Result",
    "Scorecard",
    "advise",
    "bank_marketing",
    "engine_scores",
    "evaluate_model",
    "evaluate_scores",
    "evaluate_stored",
    "field_name",
    "find_leaks",
    "from_frame",
    "from_records",
    "from_store",
    "guard",
    "html_report",
    "learn",
    "learn_html",
    "learn_scorecard",
    "learn_text",
    "measure",
    "read_leads",
    "recipe",
    "split",
    "stored_scores",
    "text_report",
    "trade_off",
    "write_model",
    "x_education",
]
