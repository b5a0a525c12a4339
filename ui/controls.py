"""Widgets several pages share: settings bound to widgets, the row of training buttons, the status sentence, the
live fragment that redraws a training, and `plain`, the one way user text reaches Markdown."""

from __future__ import annotations

import functools
import re
from dataclasses import fields, replace

import streamlit as st

from core.workers import admission
from ui import session

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")


def plain(text: object) -> str:
    """User text made safe for st.markdown, st.error, st.warning, st.info, st.caption: every Markdown and HTML character
    is escaped, so a file name, a column or a token shows as typed and never as a link, bold text or a tag. A `code span`
    stays one (nothing inside it is read as Markdown or HTML)."""
    parts = _CODE_SPAN.split(str(text))
    return "".join(part if i % 2 else _MARKDOWN.sub(r"\\\1", part) for i, part in enumerate(parts))


def bind(key: str, value) -> None:
    """Seed a widget's state from the canonical settings (widget state is dropped off its page)."""
    if key not in st.session_state:
        st.session_state[key] = value


def config_from_widgets(base, widget_keys: dict[str, str]):
    """Read widget values into a copy of `base`; `widget_keys` maps field name to widget key."""
    names = {f.name for f in fields(base)}
    changes = {name: st.session_state[key] for name, key in widget_keys.items() if name in names and key in st.session_state}
    return replace(base, **changes)


def sidebar_status() -> None:
    """A small live status of the training in the sidebar, on every page."""
    r = session.run()
    if r is None or r.trainer is None:
        return

    @st.fragment(run_every=redraw_every(r.trainer, 1.0) if session.training_active() else None)
    def status() -> None:
        p = r.trainer.progress()
        with st.sidebar:
            st.caption(f"**Training:** {p.status}")
            if p.total_steps:
                st.progress(min(p.step / p.total_steps, 1.0), text=f"step {p.step:,} of {p.total_steps:,}")

    status()


def training_buttons(prefix: str, trainer, active: bool, on_start, args: tuple = (), on_step=None) -> bool:
    """Start training, Pause or Resume, Stop, and Step when `on_step` is given, in one row (keys `{prefix}_start`
    ...); True when the training is paused."""
    b1, b2, b3, b4, _ = st.columns([1.6, 1, 1, 1, 1.4])
    b1.button("Start training", key=f"{prefix}_start", type="primary", disabled=active, on_click=on_start, args=args)
    paused = trainer is not None and trainer.progress().status == "paused"
    if paused:
        b2.button("Resume", key=f"{prefix}_resume", on_click=trainer.resume)
    else:
        b2.button("Pause", key=f"{prefix}_pause", disabled=not active, on_click=trainer.pause if trainer else None)
    b3.button("Stop", key=f"{prefix}_stop", disabled=not active, on_click=trainer.stop if trainer else None)
    if on_step is not None:
        b4.button("Step", key=f"{prefix}_step", disabled=active and not paused, on_click=on_step,
                  help="Train exactly one batch, then pause: every chart and page redraws for it.")
    return paused


# Snapshot statuses that warn: the training ended short of its plan through no choice of the user's ("lost": its worker
# died; "interrupted": the server stopped; "damaged": a weights file could not be read).
WARNING_STATUSES = ("interrupted", "damaged", "lost")
MISSING = "–"  # what a table shows in a cell with no value yet (Streamlit's default is the word "None")


def training_message(p, finished: str = "") -> None:
    """The sentence for a snapshot's status: finished, failed, lost, interrupted, stopped, waiting or paused (its colour
    comes from the status alone, never from the message's words)."""
    if p.status == "finished":
        st.success(f"**Training finished.**{finished}")
    elif p.status == "failed":
        st.error(plain(p.message))
    elif p.status in WARNING_STATUSES:
        st.warning(plain(p.message))
    elif p.status in ("stopped", "waiting", "paused") or p.message:
        st.info(plain(p.message or p.status))


# A training waiting in the queue for a slot only changes its place in the queue and its wait: its pages redraw every
# 2 s, not twice a second. In a class of thirty on 2 cores, 28 waiting pages at the training cadence cost the server
# about half a core, taken from the trainings.
WAITING_EVERY_S = 2.0


def queued(trainer) -> bool:
    """True while `trainer` waits for a slot that other trainings hold (not while its own worker starts)."""
    if trainer is None or trainer.progress().status != "waiting":
        return False
    gate = admission.current_gate()
    return gate is not None and gate.running() >= gate.capacity


def redraw_every(trainer, every: float, queue: bool = True) -> float | None:
    """How often a live view of `trainer` redraws: `every`, or while it waits in the queue WAITING_EVERY_S (None, not
    at all, for a view without `queue`)."""
    return _cadence(queued(trainer), every, queue)


def _cadence(waiting: bool, every: float, queue: bool) -> float | None:
    return (WAITING_EVERY_S if queue else None) if waiting else every


def live_fragment(trainer, active: bool, paused: bool, every: float = 0.5, watch: bool = True, queue: bool = True):
    """Decorator for a page's live view of `trainer`: the function (given the latest snapshot) is redrawn every `every`
    seconds while it trains (every WAITING_EVERY_S while it waits in the queue, or not at all without `queue`: a view
    that shows nothing of the wait, such as the charts, whose history cannot move before the training starts). With
    `watch`, once the training ends, a pause or resume takes effect, or its wait ends, the whole page is drawn again, so
    that its buttons and cadence follow (a page's views without `queue` need one view with `watch`)."""

    def wrap(draw):
        waiting = active and queued(trainer)

        @st.fragment(run_every=_cadence(waiting, every, queue) if active else None)  # the state `watch` compares with
        @functools.wraps(draw)  # Streamlit tells fragments apart by the function's name: each keeps the page's own
        def live() -> None:
            p = trainer.progress()
            if watch and active and (not trainer.active() or (p.status == "paused") != paused
                                     or queued(trainer) != waiting):
                st.rerun(scope="app")  # training ended, a pause or resume took effect, or its turn came: redraw all
            draw(p)

        return live

    return wrap
