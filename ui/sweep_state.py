"""A workspace's sweeps as the Sweeps page uses them: plan one from the panel, start it on Ray Tune with every trial a
stored run of it, find it again after a reload, and open its best trial as the current run."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import streamlit as st

from core import settings
from core.runs.sqlite_store import StoreError
from core.sweeps import board
from core.sweeps.plan import Estimate, SweepSpec, Trial, check_and_estimate, make_spec, plan
from core.sweeps.space import SweepError
from core.text.batches import check_length
from ui import session, stored_runs
from ui.store_access import ensure_token, notice, recorder, store, token

log = logging.getLogger(__name__)
_LIVE: dict[int, object] = {}  # sweep id -> its core.workers.sweep.SweepRunner, for every session of this server
_LIVE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Planned:
    """A sweep the panel can start: its spec, trials and what the panel says about it."""

    spec: SweepSpec
    trials: list[Trial]
    estimate: Estimate


def slots() -> int:
    """Trainings that may run at once on this server (the gate's, or what it will be once Ray is up)."""
    from core.workers import admission

    gate = admission.current_gate()
    return gate.capacity if gate is not None else admission.max_trainings()


def plan_sweep(texts: dict[str, str], search: str, trials: int, epochs: int, asha: bool) -> Planned:
    """The panel's sweep, checked against the loaded text and this server's limits, with its estimate.

    Raises:
        SweepError: a sentence naming the setting, the trial or the limit.
    """
    from core.nn.estimate import machine_gflops, memory_limit_bytes

    spec = make_spec(texts, search, trials, epochs, asha)
    vocab, ids = session.encoded()
    base = session.wanted_config()
    planned = plan(spec, base, st.session_state.train_config, settings.current().max_trials)
    for t in planned:
        try:
            check_length(len(ids), t.model.batch_size, t.model.seq_len, "The loaded text")
        except ValueError as err:
            raise SweepError(f"Trial {t.index + 1} ({t.label()}) cannot run: {err}") from None
    s, ws = store(), token()
    if s is not None and ws is not None and len(s.runs(ws)) + len(planned) > s.limits.runs:
        raise SweepError(f"This sweep would add {len(planned)} runs to the {len(s.runs(ws))} of this workspace, above its "
                         f"limit of {s.limits.runs} (RNN_PLAYGROUND_MAX_RUNS). Delete runs on the Runs page, or sweep fewer "
                         "values.")
    estimate = check_and_estimate(planned, len(ids), slots(), memory_limit_bytes(), machine_gflops())
    return Planned(spec, planned, estimate)


def start(planned: Planned) -> int | None:
    """Store the sweep and its trials as runs, and start it on Ray Tune; its id (None, with a notice, when the store
    cannot keep it)."""
    from core.runs.reopen import vocab_json
    from core.workers.sweep import Asha, SweepRunner, TrialTrainer  # Ray: only once a sweep starts

    ss, s, rec, ws = st.session_state, store(), recorder(), ensure_token()
    if s is None or ws is None:
        notice("Sweeps need the run store, which this server cannot open; the sentence at the top says why.")
        return None
    vocab, ids = session.encoded()
    alive = stored_runs.keep_alive()
    try:
        sweep_id = s.create_sweep(ws, planned.spec.to_json())
        text_key, trainers = s.put_text(str(ss.text)), []
        for t in planned.trials:
            trainer = TrialTrainer(t.index, t.label(), t.model, t.train, ids, vocab, keep_alive=alive)
            trainer.owner = ws  # continued after the sweep, it queues as this workspace's
            run_id = s.create_run(ws, f"sweep {sweep_id} · trial {t.index + 1} · {t.label()}", text_key, ss.text_name,
                                  t.model, t.train, vocab_json(vocab))
            s.update_run(ws, run_id, sweep_id=sweep_id)
            rec.track(run_id, trainer, ws)
            trainers.append(trainer)
    except StoreError as err:
        log.exception("A sweep could not be stored")
        notice(str(err))
        return None

    def ended(status: str, message: str) -> None:  # in the sweep's thread: no Streamlit here
        rec.flush(ws)
        s.update_sweep(ws, sweep_id, status=status, message=message, best_run=best_run(s.sweep_runs(ws, sweep_id)))

    runner = SweepRunner(trainers, ids, vocab, asha=Asha() if planned.spec.asha else None, keep_alive=alive, on_end=ended,
                         owner=ws)
    with _LIVE_LOCK:
        _LIVE[sweep_id] = runner
    runner.start()
    ss.sweep_id = sweep_id
    return sweep_id


def best_run(runs: list[dict]) -> int | None:
    """The id of the trial with the lowest best validation loss (None before any has one)."""
    top = board.best(runs)
    return top["id"] if top is not None else None


def runner(sweep_id: int | None):
    """The sweep's runner while this server runs it (or ran it), else None."""
    with _LIVE_LOCK:
        return _LIVE.get(sweep_id) if sweep_id is not None else None


def latest() -> dict | None:
    """The workspace's newest sweep (the one this session started or opened, when it has one)."""
    s, ws = store(), token()
    if s is None or ws is None:
        return None
    sweeps = s.sweeps(ws)
    wanted = st.session_state.get("sweep_id")
    return next((x for x in sweeps if x["id"] == wanted), sweeps[-1] if sweeps else None)


def watch(sweep_id: int) -> None:
    """This session watches the sweep too (a reload, another tab): it keeps running while any tab is open."""
    r = runner(sweep_id)
    if r is not None and r.active() and st.session_state.get("sweep_watched") != (sweep_id, id(r)):
        r.keep_alive.add(session.keep_alive())
        st.session_state.sweep_watched = (sweep_id, id(r))


def trial_runs(sweep_id: int) -> list[dict]:
    """The sweep's trials as stored runs (written first, so they are as fresh as the trainings)."""
    rec, ws = recorder(), token()
    if rec is not None:
        rec.flush(ws)
    return store().sweep_runs(ws, sweep_id)


def spec_of(sweep: dict) -> SweepSpec:
    return SweepSpec.from_json(sweep["spec"])


def open_best(run_id: int) -> bool:
    """Make the sweep's best trial the current run (Generate and the inspection pages use it)."""
    rec = recorder()
    if rec is not None:
        rec.flush(token())  # an ended trial is written and let go, so it opens from the store like any run
    return stored_runs.attach_run(run_id)


__all__ = ["Planned", "SweepError", "best_run", "latest", "open_best", "plan_sweep", "runner", "slots", "spec_of", "start",
           "trial_runs", "watch"]
