"""``mql learn``, ``mql evaluate`` and ``mql advise``: thin commands over mql.learn.

Mount them on the main application with :func:`register`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mql.cli.errors import reports_errors
from mql.cli.times import at_parser, now
from mql.errors import InputError
from mql.model import Model, load_model
from mql.settings import Settings
from mql.store import Store, open_store

if TYPE_CHECKING:  # mql.learn (scikit-learn) is imported only when a command runs
    import numpy as np

    from mql.learn import Goal, LeadData
    from mql.learn.evaluate import EngineScores

#: The names of mql.learn.public.RECIPES and the default of
#: mql.learn.scorecard.MIN_IV, written out so that the help does not import
#: scikit-learn (tests/cli/test_startup.py checks that they agree).
RECIPE_NAMES = ("x-education", "bank-marketing")
DEFAULT_MIN_IV = 0.02

logger = logging.getLogger(__name__)

DataFile = Annotated[
    Path | None,
    typer.Argument(
        help="Leads with a known outcome (CSV, any separator); or use --from-store.",
        exists=True,
        show_default=False,
    ),
]
FromStore = Annotated[
    bool,
    typer.Option(
        "--from-store",
        help="Read the stored leads whose outcome is known (the store of --db).",
    ),
]
Outcome = Annotated[
    str,
    typer.Option("--outcome", "-o", help="The column saying whether a lead converted."),
]
Positive = Annotated[
    list[str] | None,
    typer.Option(
        "--positive",
        help="A value of the outcome meaning converted (repeatable); every other "
        "value then means not. Default: 1, true, yes... mean converted, 0, false, "
        "no... not, and any other value is refused.",
    ),
]
Sep = Annotated[
    str | None, typer.Option("--sep", help="Column separator (default: detected).")
]
Missing = Annotated[
    list[str] | None,
    typer.Option("--missing", help="A value meaning 'not answered' (repeatable)."),
]
Exclude = Annotated[
    list[str] | None, typer.Option("--exclude", "-x", help="A column to leave out.")
]
Feature = Annotated[
    list[str] | None,
    typer.Option("--feature", help="Use only these columns (repeatable)."),
]
PostContact = Annotated[
    list[str] | None,
    typer.Option(
        "--post-contact",
        help="A column filled in after sales contact: "
        "refused as a feature (repeatable).",
    ),
]
Recipe = Annotated[
    str | None,
    typer.Option(
        "--recipe",
        help=f"Read a public data set: {', '.join(RECIPE_NAMES)} (it sets "
        "--outcome, --positive and --sep; the other column options apply).",
    ),
]
Capacity = Annotated[
    float | None,
    typer.Option(
        "--capacity", help="MQLs sales can take per period (with --arrivals)."
    ),
]
Arrivals = Annotated[
    float | None, typer.Option("--arrivals", help="Leads that arrive per period.")
]
Period = Annotated[
    str, typer.Option("--period", help="The period of --capacity: week or month.")
]
Share = Annotated[
    float | None,
    typer.Option("--share", help="At most this share of leads as MQLs (0-1)."),
]
Recall = Annotated[
    float | None,
    typer.Option("--recall", help="Reach this recall of converters (0-1)."),
]
Precision = Annotated[
    float | None,
    typer.Option("--precision", help="Reach this precision among MQLs (0-1)."),
]
Report = Annotated[
    Path | None,
    typer.Option("--report", help="Also write a static HTML report with plots here."),
]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the split and resampling.")]
At = Annotated[
    datetime | None,
    typer.Option(
        "--at",
        parser=at_parser,
        metavar="DATE|TIMESTAMP",
        show_default=False,
        help="With --from-store: score each lead with its stored events at this "
        "instant (ISO date or timestamp; default now), so intent rules count. "
        "A file has no events: its leads are scored on attributes only.",
    ),
]


@dataclass(frozen=True)
class DataArgs:
    """How to read the leads: a file, or the store (``path`` None)."""

    path: Path | None
    outcome: str
    positive: list[str] | None
    sep: str | None
    missing: list[str] | None
    exclude: list[str] | None
    features: list[str] | None
    post_contact: list[str] | None
    recipe: str | None

    def read(self, ctx: typer.Context) -> LeadData:
        """The leads, read by recipe or by the column options, or from the store."""
        from mql.learn import read_leads, recipe

        if self.path is None:
            if self.recipe:
                raise InputError(
                    f"--recipe {self.recipe} reads a file: name the file, or leave "
                    "out --recipe with --from-store"
                )
            return self._stored(ctx)
        if self.recipe:
            self._check_recipe(ctx)
            return recipe(
                self.recipe,
                self.path,
                features=self.features or (),
                exclude=self.exclude or (),
                post_contact=self.post_contact or (),
                missing=self.missing or (),
            )
        return read_leads(
            self.path,
            self.outcome,
            positive=self.positive or (),
            sep=self.sep,
            missing=self.missing or (),
            exclude=self.exclude or (),
            features=self.features or (),
            post_contact=self.post_contact or (),
        )

    def _check_recipe(self, ctx: typer.Context) -> None:
        """Refuse the options a recipe sets itself, rather than ignore them."""
        given = [
            name
            for name, value in (("--positive", self.positive), ("--sep", self.sep))
            if value
        ]
        source = ctx.get_parameter_source("outcome")
        if source is not None and source.name != "DEFAULT":
            given.insert(0, "--outcome")
        if given:
            raise InputError(
                f"--recipe {self.recipe} sets the outcome column, its values and the "
                f"separator itself: leave out {', '.join(given)} (or leave out "
                "--recipe and describe the file with the column options)"
            )

    def _stored(self, ctx: typer.Context) -> LeadData:
        from mql.learn import from_store

        store = _open(ctx)
        try:
            return from_store(
                store,
                features=self.features or (),
                exclude=self.exclude or (),
                post_contact=self.post_contact or (),
            )
        finally:
            store.close()

    @property
    def name(self) -> str:
        """The leads' name in report titles."""
        return self.path.name if self.path is not None else "stored leads"


def _open(ctx: typer.Context) -> Store:
    """The store of the global --db option, or of the settings."""
    root = ctx.find_root().obj
    return open_store(getattr(root, "db", None) or Settings.from_env().database_url)


def _engine_scores(
    ctx: typer.Context, args: DataArgs, model: Model, at: datetime | None
) -> tuple[np.ndarray[Any, Any], EngineScores]:
    """Outcomes and the engine's scores: stored leads with their events at ``at``
    (default now), or a file's leads on their attributes."""
    from mql.learn import engine_scores
    from mql.learn.scorecard import READ_AT
    from mql.learn.stored import stored_scores

    if args.path is None:
        store = _open(ctx)
        try:
            return stored_scores(store, model, at or now())
        finally:
            store.close()
    data = args.read(ctx)
    return data.outcome, engine_scores(model, data, READ_AT)


def _source(path: Path | None, from_store_: bool) -> Path | None:
    if (path is None) == from_store_:
        return path
    if path is None:
        raise InputError("name a leads file, or pass --from-store to use the store")
    raise InputError(f"give a leads file ({path}) or --from-store, not both")


def _scoring_args(
    data_file: Path | None,
    from_store_: bool,
    outcome: str,
    positive: list[str] | None,
    sep: str | None,
    missing: list[str] | None,
    recipe_name: str | None,
) -> DataArgs:
    """How to read the leads a model is scored on (every column, none refused)."""
    path = _source(data_file, from_store_)
    return DataArgs(
        path, outcome, positive, sep, missing, None, None, None, recipe_name
    )


def _write_report(report: Path, html: str) -> None:
    """Write the HTML report and say where."""
    report.write_text(html, "utf-8")
    typer.echo(f"Report written to {report}.")


def _goal(
    capacity: float | None,
    arrivals: float | None,
    period: str,
    share: float | None,
    recall: float | None,
    precision: float | None,
) -> Goal:
    from mql.learn import Goal

    given = [v for v in (capacity, share, recall, precision) if v is not None]
    if len(given) > 1:
        raise InputError(
            "give one goal for the threshold: --capacity (with --arrivals), --share, "
            "--recall or --precision"
        )
    return Goal(capacity, arrivals, share, recall, precision, period)


@reports_errors
def learn(
    ctx: typer.Context,
    data_file: DataFile = None,
    output: Annotated[
        Path, typer.Option("--output", "-O", help="Where to write the model file.")
    ] = Path("learned.yaml"),
    outcome: Outcome = "converted",
    positive: Positive = None,
    sep: Sep = None,
    missing: Missing = None,
    exclude: Exclude = None,
    feature: Feature = None,
    post_contact: PostContact = None,
    recipe_name: Recipe = None,
    from_store_: FromStore = False,
    current: Annotated[
        Path | None,
        typer.Option(
            "--current",
            help="The current model: compared on the same "
            "split, and the points shrink towards it with little data.",
        ),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="The model's name.")] = "learned",
    pdo: Annotated[
        float, typer.Option("--pdo", help="Points that double the odds.")
    ] = 20.0,
    test_share: Annotated[
        float,
        typer.Option(
            "--test-share", help="Share of leads held out (above 0, below 1)."
        ),
    ] = 0.3,
    folds: Annotated[
        int, typer.Option("--folds", help="Cross-validation folds (0: none).")
    ] = 5,
    min_iv: Annotated[
        float,
        typer.Option("--min-iv", help="Leave out fields below this information value."),
    ] = DEFAULT_MIN_IV,
    capacity: Capacity = None,
    arrivals: Arrivals = None,
    period: Period = "week",
    share: Share = None,
    recall: Recall = None,
    precision: Precision = None,
    report: Report = None,
    seed: Seed = 0,
    allow_leaky: Annotated[
        bool, typer.Option("--allow-leaky", help="Keep leaky features (not advised).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the output file.")
    ] = False,
    refit: Annotated[
        bool,
        typer.Option(
            "--refit",
            help="After measuring on the split, learn again on every lead and "
            "write that model (the figures stay those of the split's model).",
        ),
    ] = False,
) -> None:
    """Learn a points model from leads with a known outcome and prove it.

    Writes the model file, prints held-out and cross-validated figures beside the
    unrounded fit (and --current), and the threshold advice.

    Example: mql learn Leads.csv --recipe x-education --share 0.3 --report learn.html
    """
    from mql.learn import Options, learn_html, learn_text
    from mql.learn import learn as learn_leads

    if output.exists() and not force:
        raise InputError(f"{output} already exists; pass --force or choose --output")
    args = DataArgs(
        _source(data_file, from_store_),
        outcome,
        positive,
        sep,
        missing,
        exclude,
        feature,
        post_contact,
        recipe_name,
    )
    options = Options(
        name=name,
        pdo=pdo,
        test_share=test_share,
        folds=folds,
        min_iv=min_iv,
        seed=seed,
        goal=_goal(capacity, arrivals, period, share, recall, precision),
        current=load_model(current) if current else None,
        allow_leaky=allow_leaky,
        refit=refit,
    )
    result = learn_leads(args.read(ctx), options)
    output.write_text(result.written.text, encoding="utf-8")
    typer.echo(learn_text(result, f"mql learn {args.name}"))
    which = "learned again on every lead (--refit)" if result.refitted else "measured"
    typer.echo(f"Model written to {output} (the model {which}).")
    if report is not None:
        _write_report(report, learn_html(result, f"mql learn {args.name}"))


@reports_errors
def evaluate(
    ctx: typer.Context,
    model_file: Annotated[Path, typer.Argument(help="The model file to evaluate.")],
    data_file: DataFile = None,
    outcome: Outcome = "converted",
    positive: Positive = None,
    sep: Sep = None,
    missing: Missing = None,
    recipe_name: Recipe = None,
    from_store_: FromStore = False,
    capacity: Capacity = None,
    arrivals: Arrivals = None,
    period: Period = "week",
    share: Share = None,
    recall: Recall = None,
    precision: Precision = None,
    report: Report = None,
    seed: Seed = 0,
    at: At = None,
) -> None:
    """Evaluate any model on leads with a known outcome, scored by the engine.

    With --from-store each lead is scored with its stored events at --at, so the
    model's intent rules count; a file's leads are scored on attributes only.

    Example: mql evaluate learned.yaml Leads.csv --recipe x-education --report ev.html
    """
    from mql.learn import html_report, text_report
    from mql.learn.evaluate import evaluate_scores

    model = load_model(model_file)
    args = _scoring_args(
        data_file, from_store_, outcome, positive, sep, missing, recipe_name
    )
    goal = _goal(capacity, arrivals, period, share, recall, precision)
    y, scores = _engine_scores(ctx, args, model, at)
    result = evaluate_scores(model, y, scores, goal=goal, seed=seed)
    title = f"mql evaluate {model_file.name} on {args.name}"
    notes = [_scored_how(args, at), _PROBABILITY_NOTE]
    same = _learned_from_this(model_file, args.path)
    if same is not None:
        notes.insert(0, same)
    typer.echo(text_report(title, [result], result.advice, notes))
    if report is not None:
        _write_report(report, html_report(title, [result], result.advice, notes))


@reports_errors
def advise_threshold(
    ctx: typer.Context,
    model_file: Annotated[Path, typer.Argument(help="The model file.")],
    data_file: DataFile = None,
    outcome: Outcome = "converted",
    positive: Positive = None,
    sep: Sep = None,
    missing: Missing = None,
    recipe_name: Recipe = None,
    from_store_: FromStore = False,
    capacity: Capacity = None,
    arrivals: Arrivals = None,
    period: Period = "week",
    share: Share = None,
    recall: Recall = None,
    precision: Precision = None,
    at: At = None,
) -> None:
    """Recommend a threshold from sales capacity or a target recall or precision.

    With --from-store each lead is scored with its stored events at --at.

    Example: mql advise learned.yaml Leads.csv --capacity 60 --arrivals 250
    """
    from mql.learn import advise
    from mql.learn.report import trade_off_table

    model = load_model(model_file)
    args = _scoring_args(
        data_file, from_store_, outcome, positive, sep, missing, recipe_name
    )
    goal = _goal(capacity, arrivals, period, share, recall, precision)
    y, scores = _engine_scores(ctx, args, model, at)
    advice = advise(y, scores.scores, goal)
    typer.echo(_scored_how(args, at))
    typer.echo(f"Advised threshold: {advice.threshold:g} ({advice.reason}).")
    typer.echo(f"Current threshold: {model.threshold:g}.")
    typer.echo("\n".join(trade_off_table(advice)))


_PROBABILITY_NOTE = (
    "Probabilities for log loss and calibration: a score-to-probability map "
    "fitted on the other folds."
)


_SAME_FILE_NOTE = (
    "The model file says it was learned from this same file (the same bytes): "
    "these figures include the leads it learned from, so they overstate how it "
    "ranks new leads. The held-out figures are the ones `mql learn` printed."
)
_SAME_NAME_NOTE = (
    "The model file says it was learned from a file named {name} with other "
    "bytes than this one. If this is a new export of the same leads, these "
    "figures include leads it learned from and overstate how it ranks new leads; "
    "judge it on leads that came later."
)


def _learned_from_this(model_file: Path, data_file: Path | None) -> str | None:
    """A note when the model file's header says it learned from ``data_file``'s
    leads (the same bytes, wherever the file now is) or from a file of the same
    name (perhaps a new export of them); None otherwise."""
    from mql.learn.writer import learned_from

    if data_file is None:
        return None
    try:
        source = learned_from(model_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    if source is None:
        return None
    if source.is_file(data_file):
        return _SAME_FILE_NOTE
    if Path(source.name).name == data_file.name:
        return _SAME_NAME_NOTE.format(name=data_file.name)
    return None


def _scored_how(args: DataArgs, at: datetime | None) -> str:
    """How the leads were scored, for the reader of the figures."""
    if args.path is None:
        when = at.isoformat() if at is not None else "now"
        return (
            f"Scored by the engine at {when} from each lead's attributes and "
            "stored events (intent rules count)."
        )
    return (
        "Scored by the engine from the file's attributes only: a file has no "
        "events, so intent rules give 0 (use --from-store to count them)."
    )


def register(app: typer.Typer) -> None:
    """Mount ``learn``, ``evaluate`` and ``advise`` on the main application."""
    app.command("learn")(learn)
    app.command("evaluate")(evaluate)
    app.command("advise")(advise_threshold)
