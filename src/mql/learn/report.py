"""Reports of an evaluation: plain text for the terminal, a static HTML page.

The HTML page stands alone: plots are PNG images drawn with matplotlib and
embedded in the page, with no script and nothing fetched from the network.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mql.learn.evaluate import Evaluation
from mql.learn.learner import Result
from mql.learn.metrics import Metrics, cumulative_gain
from mql.learn.threshold import Advice, Point

#: Rows of the trade-off table: thresholds picked at these shares of leads.
TRADE_OFF_SHARES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)
#: Plot size in inches and resolution: small enough to keep the page light.
FIGURE_SIZE = (5.0, 3.6)
DPI = 90
#: Line styles of the compared models, so that curves lying on each other both show.
LINE_STYLES = ("-", "--", "-.", (0, (1, 1)))


def metrics_table(evaluations: Sequence[Evaluation]) -> list[str]:
    """One line per model: AUC with its interval, PR AUC, log loss, threshold."""
    lines = [
        f"{'model':<34} {'ROC AUC':>8} {'95% interval':>15} {'PR AUC':>7} "
        f"{'log loss':>8} {'MQL share':>9} {'recall':>7} {'precision':>9}"
    ]
    for ev in evaluations:
        m = ev.metrics
        low, high = m.roc_auc_ci
        loss = f"{m.log_loss:.4f}" if m.log_loss is not None else "-"
        at = m.at_threshold
        tail = (
            f"{at.mql_share:>9.1%} {at.recall:>7.1%} {at.precision:>9.1%}"
            if at
            else f"{'-':>9} {'-':>7} {'-':>9}"
        )
        lines.append(
            f"{ev.name[:34]:<34} {m.roc_auc:>8.4f} {f'{low:.3f}-{high:.3f}':>15} "
            f"{m.pr_auc:>7.4f} {loss:>8} {tail}"
        )
    return lines


def gains_table(metrics: Metrics) -> list[str]:
    """Gains and lift by decile of score, best first."""
    lines = [
        f"{'decile':>6} {'scores':>15} {'leads':>6} {'conv. rate':>10} "
        f"{'cum. leads':>10} {'cum. converters':>15} {'lift':>5}"
    ]
    cumulative = cumulative_gain(metrics.gains)
    for i, (band, (share, gain, lift)) in enumerate(
        zip(metrics.gains, cumulative, strict=True), start=1
    ):
        scores = f"{band.low:g} to {band.high:g}"
        lines.append(
            f"{i:>6} {scores:>15} {band.leads:>6} {band.rate:>10.1%} "
            f"{share:>10.1%} {gain:>15.1%} {lift:>5.2f}"
        )
    return lines


def calibration_table(metrics: Metrics) -> list[str]:
    """Reliability: mean predicted probability against the observed rate."""
    lines = [f"{'band':>4} {'leads':>6} {'predicted':>9} {'observed':>9}"]
    for i, band in enumerate(metrics.calibration, start=1):
        lines.append(f"{i:>4} {band.leads:>6} {band.predicted:>9.1%} {band.rate:>9.1%}")
    return lines


def trade_off_table(advice: Advice) -> list[str]:
    """The trade-off curve at a few shares of leads, and the advised threshold."""
    lines = [f"{'threshold':>9} {'MQL share':>9} {'recall':>7} {'precision':>9}"]
    for point in sample_curve(advice.curve, advice.point):
        mark = "  <- advised" if point == advice.point else ""
        lines.append(
            f"{point.threshold:>9g} {point.mql_share:>9.1%} {point.recall:>7.1%} "
            f"{point.precision:>9.1%}{mark}"
        )
    return lines


def sample_curve(curve: Sequence[Point], advised: Point | None = None) -> list[Point]:
    """Points of the curve nearest to a few shares of leads, plus the advised one."""
    chosen: list[Point] = []
    for share in TRADE_OFF_SHARES:
        point = min(curve, key=lambda p: abs(p.mql_share - share))
        if point not in chosen:
            chosen.append(point)
    if advised is not None and advised not in chosen:
        chosen.append(advised)
    return sorted(chosen, key=lambda p: -p.threshold)


def text_report(
    title: str,
    evaluations: Sequence[Evaluation],
    advice: Advice | None,
    notes: Sequence[str] = (),
    warnings: Sequence[str] = (),
) -> str:
    """The whole evaluation as text; warnings first, in capitals."""
    main = evaluations[0].metrics
    lines = [title, "=" * len(title), ""]
    lines += [f"WARNING: {warning}" for warning in warnings]
    lines += [f"Note: {note}" for note in notes]
    if notes or warnings:
        lines.append("")
    lines += [f"{main.leads} leads, {main.converters} converted.", ""]
    lines += metrics_table(evaluations)
    lines += ["", f"Gains by decile ({evaluations[0].name}):"]
    lines += gains_table(main)
    if main.calibration:
        lines += ["", "Calibration:", *calibration_table(main)]
    if advice is not None:
        lines += ["", f"Threshold advice: {advice.threshold:g} ({advice.reason})."]
        lines += trade_off_table(advice)
    return "\n".join(lines) + "\n"


def html_report(
    title: str,
    evaluations: Sequence[Evaluation],
    advice: Advice | None,
    notes: Sequence[str] = (),
    model_text: str | None = None,
    warnings: Sequence[str] = (),
) -> str:
    """The evaluation as one static HTML page with embedded plots."""
    main = evaluations[0].metrics
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *(f"<p class=warning>WARNING: {html.escape(w)}</p>" for w in warnings),
        *(f"<p class=note>{html.escape(n)}</p>" for n in notes),
        f"<p>{main.leads} leads, {main.converters} converted.</p>",
        _pre(metrics_table(evaluations)),
        "<h2>ROC and precision-recall curves</h2>",
        _img(_roc_plot(evaluations)),
        _img(_pr_plot(evaluations, main)),
        "<h2>Gains and lift by decile</h2>",
        _img(_gains_plot(evaluations)),
        _pre(gains_table(main)),
    ]
    if main.calibration:
        parts += [
            "<h2>Calibration</h2>",
            _img(_calibration_plot(evaluations)),
            _pre(calibration_table(main)),
        ]
    if advice is not None:
        parts += [
            "<h2>Threshold</h2>",
            f"<p>Advised threshold {advice.threshold:g}: {html.escape(advice.reason)}"
            ".</p>",
            _img(_trade_off_plot(advice)),
            _pre(trade_off_table(advice)),
        ]
    if model_text is not None:
        parts += ["<h2>Model file</h2>", f"<pre>{html.escape(model_text)}</pre>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


_CSS = (
    "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "pre{background:#f6f6f6;padding:.5rem;overflow-x:auto;font-size:.85rem}"
    ".note{color:#8a4b00}.warning{color:#b00020;font-weight:bold}"
    "img{max-width:100%}"
)


def _pre(lines: Sequence[str]) -> str:
    return "<pre>" + html.escape("\n".join(lines)) + "</pre>"


def _img(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    alt = html.escape(figure.axes[0].get_title() or "plot") if figure.axes else "plot"
    return f'<img alt="{alt}" src="data:image/png;base64,{data}">'


def _gains_plot(evaluations: Sequence[Evaluation]) -> Figure:
    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    for ev in evaluations:
        points = cumulative_gain(ev.metrics.gains)
        axes.plot(
            [0.0, *(p[0] for p in points)],
            [0.0, *(p[1] for p in points)],
            marker="o",
            label=ev.name,
        )
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    axes.set_xlabel("share of leads (best scores first)")
    axes.set_ylabel("share of converters found")
    axes.legend(fontsize="small")
    return figure


def _curves_plot(
    evaluations: Sequence[Evaluation],
    curve: Callable[[Metrics], Sequence[tuple[float, float]]],
    area: Callable[[Metrics], str],
) -> tuple[Figure, Axes]:
    """A figure with each model's curve in its own line style, labelled with
    the model's name and its area under the curve."""
    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    for i, ev in enumerate(evaluations):
        points = curve(ev.metrics)
        axes.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            linestyle=LINE_STYLES[i % len(LINE_STYLES)],
            label=f"{ev.name} ({area(ev.metrics)})",
        )
    return figure, axes


def _roc_plot(evaluations: Sequence[Evaluation]) -> Figure:
    figure, axes = _curves_plot(
        evaluations, lambda m: m.roc, lambda m: f"AUC {m.roc_auc:.3f}"
    )
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    axes.set_xlabel("false positive rate (non-converters above the cut)")
    axes.set_ylabel("true positive rate (recall)")
    axes.set_title("ROC curve")
    axes.legend(fontsize="small")
    return figure


def _pr_plot(evaluations: Sequence[Evaluation], main: Metrics) -> Figure:
    figure, axes = _curves_plot(
        evaluations, lambda m: m.pr, lambda m: f"PR AUC {m.pr_auc:.3f}"
    )
    base = main.converters / main.leads if main.leads else 0.0
    axes.axhline(base, linestyle=":", color="grey", label="random")
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_ylim(0, 1.02)
    axes.set_title("Precision-recall curve")
    axes.legend(fontsize="small")
    return figure


def _calibration_plot(evaluations: Sequence[Evaluation]) -> Figure:
    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    for ev in evaluations:
        bands = ev.metrics.calibration
        if bands:
            axes.plot(
                [b.predicted for b in bands],
                [b.rate for b in bands],
                marker="o",
                label=ev.name,
            )
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect")
    axes.set_xlabel("predicted probability of converting")
    axes.set_ylabel("observed share converted")
    axes.legend(fontsize="small")
    return figure


def _trade_off_plot(advice: Advice) -> Figure:
    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    shares = [p.mql_share for p in advice.curve]
    axes.plot(shares, [p.recall for p in advice.curve], label="recall")
    axes.plot(shares, [p.precision for p in advice.curve], label="precision")
    axes.axvline(
        advice.point.mql_share,
        linestyle="--",
        color="black",
        label=f"threshold {advice.threshold:g}",
    )
    axes.set_xlabel("share of leads that are MQLs")
    axes.set_ylim(0, 1.02)
    axes.legend(fontsize="small")
    return figure


def learn_warnings(result: Result) -> list[str]:
    """What a reader of a learn report must not miss: small data, leakage."""
    kept = [f"LEAKAGE kept on purpose: {f.field} ({f.reason})" for f in result.leaks]
    return [*result.warnings, *kept]


def learn_notes(result: Result) -> list[str]:
    """What a reader of a learn report must know: split, scale, folds, drops."""
    card = result.card
    notes: list[str] = []
    if result.refitted:
        notes.append(
            f"The figures are those of the model learned on {result.train_leads} "
            f"leads and proven on {result.test_leads} held-out leads (scored by the "
            "scoring engine from its model file). The model written (--refit) was "
            f"then learned again on all {result.train_leads + result.test_leads} "
            "leads: it has no held-out figures of its own."
        )
    else:
        notes.append(
            f"Learned on {result.train_leads} leads, proven on {result.test_leads} "
            "held-out leads scored by the scoring engine from the written model file."
        )
    notes.append(
        f"Scale: {card.pdo:g} points double the odds; even odds at "
        f"{card.even_score:.0f} points."
    )
    if result.cv is not None:
        folds = ", ".join(f"{a:.3f}" for a in result.cv.aucs)
        notes.append(
            f"Cross-validated ROC AUC of the rounded points: {result.cv.mean:.4f} "
            f"+/- {result.cv.sd:.4f} over {len(result.cv.aucs)} folds ({folds})."
        )
    which = "all the leads" if result.refitted else "the training leads"
    notes.append(
        f"The threshold advice and its trade-off table come from {which}; the "
        "held-out figures show what the measured model's threshold does on new "
        "leads."
    )
    if card.dropped:
        dropped = "; ".join(f"{name} ({why})" for name, why in card.dropped)
        notes.append(f"Features left out: {dropped}.")
    return notes


def learn_text(result: Result, title: str = "mql learn") -> str:
    """The learn result as text."""
    return text_report(
        title,
        result.evaluations,
        result.advice,
        learn_notes(result),
        learn_warnings(result),
    )


def learn_html(result: Result, title: str = "mql learn") -> str:
    """The learn result as a static HTML page, with the model file at the end."""
    return html_report(
        title,
        result.evaluations,
        result.advice,
        learn_notes(result),
        model_text=result.written.text,
        warnings=learn_warnings(result),
    )
