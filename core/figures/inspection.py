"""Figures for the inspection views: state heatmaps, gradient decay, eigenvalue plots, coloured text.

Each builder takes arrays and returns a plotly Figure (or an HTML string); none calls streamlit.
"""

from __future__ import annotations

import html
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.figures.style import log_marks, token_label
from core.text.vocabulary import display_token


def state_heatmap(states: np.ndarray, tokens: Sequence[str], units: Sequence[int] | None = None, title: str = "Hidden state") -> go.Figure:
    """Units × time heatmap of hidden states with the characters along x.

    Args:
        states: (T, units) hidden states, e.g. from `core.inspection.unroll.hidden_states`.
        tokens: the T tokens read (characters for a char model).
        units: which units to show, top row first (e.g. from `core.inspection.neurons.order_units`); all when None.
        title: the figure title.

    Returns:
        A plotly heatmap, top row first; hovering shows step, character, unit and value.
    """
    states = np.asarray(states)
    if states.ndim != 2 or states.shape[0] != len(tokens):
        raise ValueError(f"Expected states of shape ({len(tokens)}, units) for {len(tokens)} tokens, got {states.shape}.")
    units = np.arange(states.shape[1]) if units is None else np.asarray(units, dtype=int)
    shown = [token_label(t) for t in tokens]
    # Category labels carry the hover text, so no per-cell customdata (200 x 1024 of it would be megabytes).
    xcat = [f"step {t}: {ch}" for t, ch in enumerate(shown)]  # unique even when characters repeat
    ycat = [str(u) for u in units]
    z = states[:, units].T  # (shown units, T)
    limit = max(float(np.max(np.abs(z))) if z.size else 1.0, 1e-6)
    fig = go.Figure(go.Heatmap(
        z=z, x=xcat, y=ycat, colorscale="RdBu", reversescale=True, zmid=0.0, zmin=-limit, zmax=limit,
        hovertemplate="%{x}<br>unit %{y}<br>value %{z:.3f}<extra></extra>", colorbar=dict(title="h"),
    ))
    tickvals, ticktext = _time_ticks(shown, xcat)
    fig.update_xaxes(type="category", tickmode="array", tickvals=tickvals, ticktext=ticktext, tickangle=0, title="text",
                     tickfont=dict(family="monospace", size=12))
    fig.update_yaxes(type="category", autorange="reversed", title="unit", showticklabels=len(units) <= 64)
    fig.update_layout(title=title, height=max(250, min(900, 14 * len(units) + 120)), margin=dict(l=50, r=20, t=50, b=40))
    return fig


_GAPS = ("␣", "⏎", "⇥")  # display_token's names for space, newline and tab


def _time_ticks(shown: list[str], xcat: list[str], fits: int = 100) -> tuple[list[str], list[str]]:
    """Time-axis ticks that do not overlap: every character when `fits` of them fit, else whole words.

    A plot about 800 px wide holds ~100 characters of 12 px monospace; 200 single characters would
    overlap, and every other character is unreadable, so longer character texts get word labels,
    each centred on its word. Word tokens are labelled where there is room for them.
    """
    per_step = fits / max(len(shown), 1)  # label characters per time step
    if any(len(tok) > 1 and tok not in _GAPS for tok in shown):  # words: label the tokens that have room
        vals, texts, free_from = [], [], -1e9
        for t, tok in enumerate(shown):
            label = tok[:14]
            half = len(label) / 2 / per_step  # in steps
            if t - half >= free_from:
                vals.append(xcat[t])
                texts.append(label)
                free_from = t + half + 1 / per_step
        return vals, texts
    if len(shown) <= fits:
        return xcat, shown
    vals, texts, free_from, t = [], [], -1e9, 0
    while t < len(shown):
        end = t
        while end < len(shown) and shown[end] not in _GAPS:
            end += 1
        if end > t:
            word = "".join(shown[t:end])[:14]
            centre, half = (t + end - 1) / 2, len(word) / 2 / per_step  # in steps
            if centre - half >= free_from:
                vals.append(xcat[int(round(centre))])
                texts.append(word)
                free_from = centre + half + 1 / per_step
        t = end + 1
    return vals, texts


def gradient_decay_figure(curves: Mapping[str, np.ndarray], fits: Mapping, title: str = "Gradient norm vs lag",
                          dashed: Sequence[str] = (), mark: tuple[float, str] | None = None,
                          colors: Mapping[str, str] | None = None) -> go.Figure:
    """||dL/dh_t|| against lag on a log axis, one line per named curve, with its fitted decay.

    Args:
        curves: name -> (T,) gradient norms in time order (lag of entry t is T-1-t).
        fits: name -> the decay fitted to that curve (`core.inspection.vanishing.fit_decays(curves)`): a value with
            `slope` and `intercept` (log10 norm against lag), `points` (how many it used) and a legend `label`.
        title: the figure title.
        dashed: names of curves drawn dashed (e.g. the ones before training).
        mark: (lag, label) of a vertical line, e.g. where the remembered key is.
        colors: optional name -> colour, e.g. one colour per model for its before and after curves.

    Returns:
        A plotly figure; each legend entry names the curve and its factor per step ("×0.91 per step").
    """
    fig = go.Figure()
    for name, norms in curves.items():
        norms = np.asarray(norms, dtype=float)
        lag = np.arange(len(norms))[::-1]  # (T,)
        keep = np.isfinite(norms) & (norms > 0)  # a log axis cannot show zeros
        fit = fits[name]
        fig.add_trace(go.Scatter(x=lag[keep], y=norms[keep], mode="lines", name=f"{name} ({fit.label})",
                                 line=dict(dash="dash" if name in dashed else "solid", color=(colors or {}).get(name)),
                                 hovertemplate="lag %{x}<br>norm %{y:.3g}<extra>" + html.escape(str(name)) + "</extra>"))
        if fit.points >= 2:
            fitted = 10.0 ** (fit.intercept + fit.slope * lag[keep])
            fig.add_trace(go.Scatter(x=lag[keep], y=fitted, mode="lines", line=dict(dash="dot", width=1, color=(colors or {}).get(name)),
                                     name=f"{name} fit", showlegend=False, hoverinfo="skip"))
    if mark is not None:
        fig.add_vline(x=mark[0], line=dict(color="gray", dash="dot"), annotation_text=mark[1], annotation_position="top left")
    fig.update_yaxes(type="log", title="‖dL/dh_t‖", **log_marks(*curves.values()))  # whole decades over a long range
    fig.update_xaxes(title="lag (steps before the prediction)")
    rows = -(-len(curves) // 3)  # legend rows below the plot, about three entries to a row
    # The plot keeps 270 px whatever the legend; each legend row adds 24 px below it.
    fig.update_layout(title=title, height=360 + 24 * rows, margin=dict(l=60, r=20, t=50, b=40 + 24 * rows),
                      legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
    return fig


def eigenvalue_figure(eigenvalues: Mapping[str, np.ndarray], title: str = "Eigenvalues of the recurrent kernel") -> go.Figure:
    """Eigenvalues in the complex plane with the unit circle.

    Args:
        eigenvalues: name (e.g. gate block) -> complex eigenvalues.
        title: the figure title.

    Returns:
        A plotly scatter with equal axis scales; points outside the circle can make the
        linearised recurrence grow, points inside make it shrink.
    """
    theta = np.linspace(0, 2 * np.pi, 241)
    fig = go.Figure(go.Scatter(x=np.cos(theta), y=np.sin(theta), mode="lines", name="unit circle",
                               line=dict(color="gray", dash="dash", width=1), hoverinfo="skip"))
    for name, values in eigenvalues.items():
        values = np.asarray(values, dtype=complex)
        radius = float(np.max(np.abs(values))) if values.size else 0.0
        fig.add_trace(go.Scatter(x=values.real, y=values.imag, mode="markers", marker=dict(size=5, opacity=0.7),
                                 name=f"{name} (radius {radius:.3g})",
                                 hovertemplate="re %{x:.3f}<br>im %{y:.3f}<extra>" + html.escape(str(name)) + "</extra>"))
    fig.update_xaxes(title="real", zeroline=True)
    fig.update_yaxes(title="imaginary", zeroline=True, scaleanchor="x", scaleratio=1)
    # the legend under the plot: beside it, it took half of each of the three narrow charts on the Gradients page
    fig.update_layout(title=title, height=480, margin=dict(l=50, r=20, t=50, b=40),
                      legend=dict(orientation="h", x=0, y=-0.2, yanchor="top"))
    return fig


def _colour(value: float, limit: float) -> str:
    """Diverging red (positive) / blue (negative) background, transparent at zero."""
    a = 0.0 if limit <= 0 or not np.isfinite(value) else min(abs(value) / limit, 1.0)
    rgb = "214,39,40" if value > 0 else "31,119,180"
    return f"rgba({rgb},{a * 0.85:.3f})"


def activation_html(tokens: Sequence[str], values: np.ndarray, limit: float | None = None,
                    guesses: Sequence[Sequence[str]] | None = None, words: bool = False) -> str:
    """Text with each token's background coloured by one neuron's activation, as safe HTML.

    Args:
        tokens: the tokens read (characters for a char model); every one is HTML-escaped.
        values: (len(tokens),) activations, e.g. one column of `hidden_states`.
        limit: the value drawn at full colour; max |value| when None.
        guesses: optional, per token, the model's likeliest next tokens; drawn small under each token,
            in green when it is the token that actually comes next.
        words: the tokens are words: an uncoloured space goes between two tokens on a line.

    Returns:
        An HTML string: red for positive, blue for negative, newlines as <br>. No raw user text.
    """
    values = np.asarray(values, dtype=float)
    if values.shape != (len(tokens),):
        raise ValueError(f"Expected one value per token ({len(tokens)}), got shape {values.shape}.")
    if guesses is not None and len(guesses) != len(tokens):
        raise ValueError(f"Expected one list of guesses per token ({len(tokens)}), got {len(guesses)}.")
    if limit is None:
        finite = values[np.isfinite(values)]
        limit = float(np.max(np.abs(finite))) if finite.size else 1.0
    esc = lambda t: html.escape(str(t), quote=True)  # noqa: E731
    if guesses is None:
        parts = ['<div style="font-family:monospace;white-space:pre-wrap;line-height:1.7">']
        for t, (tok, v) in enumerate(zip(tokens, values)):
            text = "<br>".join(esc(piece) for piece in str(tok).split("\n"))
            if words and t and tok != "\n" and tokens[t - 1] != "\n":
                parts.append(" ")
            parts.append(f'<span style="background:{_colour(v, limit)}" title="{v:.3f}">{text}</span>')
        parts.append("</div>")
        return "".join(parts)
    parts = ['<div style="font-family:monospace;line-height:1.15">']
    for t, (tok, v) in enumerate(zip(tokens, values)):
        following = tokens[t + 1] if t + 1 < len(tokens) else None
        small = "".join(f'<div style="font-size:0.7em;color:{"#1a7f37;font-weight:bold" if g == following else "#888"}">{esc(display_token(g))}</div>'
                        for g in guesses[t])
        word = esc("⏎" if tok == "\n" else tok)  # spaces stay spaces (white-space:pre)
        parts.append(f'<span style="display:inline-block;vertical-align:top;text-align:center;min-width:0.9em;margin:0 {"0.6em" if words else "1px"} 6px 0">'
                     f'<span style="display:block;background:{_colour(v, limit)};white-space:pre" title="{v:.3f}">{word}</span>{small}</span>')
        if tok == "\n":
            parts.append("<br>")
    parts.append("</div>")
    return "".join(parts)
