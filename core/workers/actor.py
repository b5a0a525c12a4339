"""The process that trains: a Ray actor holding one training (or one long-range race) at a time.

Only plain data crosses its boundary: settings, token ids, a vocabulary, NumPy weights and progress
deltas. The worker owns the Keras model while it trains; the web server asks for snapshots and
never reaches in. Its methods run one at a time on the actor's thread, while the training runs in a
thread of its own, so a poll answers within about a millisecond even in the middle of a step.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from dataclasses import replace

import numpy as np

from core.config import ModelConfig, TrainConfig
from core.workers.messages import Delta, SeriesJob

JOIN_S = 30  # how long a job that was told to stop may take to end before the worker is retired
log = logging.getLogger(__name__)


class WorkerRetired(RuntimeError):
    """The last job did not end when told to: Keras' global state cannot be cleared under it, so this worker ends."""


def _trainer_for(job):
    """The trainer of `job` (a `TrainJob` or a `SeriesJob`), with a freshly built model."""
    if isinstance(job, SeriesJob):
        from core.forecast.model import build_series_model
        from core.forecast.trainer import SeriesTrainer

        model = build_series_model(job.config, job.window)
        return SeriesTrainer(model, job.config, job.window, job.train, job.data, resume=job.resume)
    from core.nn.language_model import build_model
    from core.training.trainer import Trainer

    return Trainer(build_model(job.config), job.config, job.train, job.ids, job.vocab, resume=job.resume)


def use_granted_cpus() -> int | None:
    """Size TensorFlow's thread pools to the CPUs Ray granted this worker (`RNN_PLAYGROUND_WORKER_CPUS`, default 1);
    call before TensorFlow starts. Returns the count, or None outside a Ray worker or when it is already set.

    TensorFlow otherwise sizes them to the machine's cores, so each training spins threads on its neighbours' CPUs.
    Measured on 2 cores (`bench/classroom.py`, the Quick demo): one training alone took 16.2 s using 1.2 cores, and
    11.2 to 12.7 s with one thread; eight students, two at a time, 67.8 s against 51.3 s. The price: a lone training
    of the Article's 1,024 units runs at 0.64x of two threads (`bench/worker_speed.py`). An operator who wants that
    back sets TensorFlow's own TF_NUM_INTRAOP_THREADS (and TF_NUM_INTEROP_THREADS), which this leaves alone.
    """
    if "TF_NUM_INTRAOP_THREADS" in os.environ or "ray" not in sys.modules:  # the operator's choice, or no Ray here
        return None
    import ray

    if not ray.is_initialized():  # never `get_runtime_context` then: it would start a Ray of its own
        return None
    try:
        context = ray.get_runtime_context()
        if context.worker.mode != ray.WORKER_MODE:  # Ray's driver (the server, a test): TensorFlow's own default
            return None
        cpus = context.get_assigned_resources().get("CPU")
    except Exception:
        log.debug("No CPUs granted by Ray here", exc_info=True)
        return None
    if not cpus:
        return None
    n = max(int(cpus), 1)
    os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = str(n)
    return n


def _warm_up() -> None:
    """Import TensorFlow and train one step of a tiny model, so a user's first step is not the process's first.

    The first compiled step in a fresh process pays for TensorFlow's and Keras' lazy set-up (about 2 s here);
    later ones, of any size, only trace their own graph.
    """
    from core.nn.language_model import build_model
    from core.nn.train_step import make_train_step
    from core.nn.tf import keras, tf

    config = ModelConfig(vocab_size=4, embedding_dim=4, rnn_units=4, batch_size=2, seq_len=4)
    step, _ = make_train_step(build_model(config), config, TrainConfig())
    x = tf.zeros((2, 4), tf.int32)
    step(x, x)
    keras.backend.clear_session()


def delta(job, rows: int, vals: int, samples: int, curves: int, version: int) -> Delta:
    """What changed in `job` (a trainer) since the caller had `rows` training rows, `vals` validation points, `samples`
    samples, `curves` gradient curves and the checkpoint `version` (also used by a sweep's trials,
    `core.workers.sweep_trial`)."""
    alive = job.alive()  # read before the snapshot: a finished thread has published its last one
    snap, ckpt = job.progress(), job.checkpoint
    n = len(snap.steps)
    light = replace(snap, steps=snap.steps[:0], loss=snap.loss[:0], accuracy=snap.accuracy[:0], seconds=snap.seconds[:0],
                    layer_norms=snap.layer_norms[:0], val_steps=(), val_loss=(), val_accuracy=(), samples=(), grad_curves=())
    return Delta(
        progress=light,
        rows=job.history.rows_since(min(rows, n), n),
        val=(snap.val_steps[vals:], snap.val_loss[vals:], snap.val_accuracy[vals:]),
        samples=snap.samples[samples:], grad_curves=snap.grad_curves[curves:],
        checkpoint=ckpt if ckpt is not None and ckpt.version > version else None,
        alive=alive,
    )


class TrainWorker:
    """A warm worker: TensorFlow is imported when it starts, so a training begins at once."""

    shares_process = False  # True in the server's own process (`core.workers.inline`)

    def __init__(self, shares_process: bool = False):
        """`shares_process`: made in the server's own process (`core.workers.inline`): Keras' global state is the
        server's (never cleared here), and so is TensorFlow's set-up (no warm-up)."""
        from core import logs, settings

        self.shares_process = shares_process
        self.job = None  # the Trainer or Race running here
        self.job_id: str | None = None  # the server's id of that job: `weights` answers only for it
        if self.shares_process:
            return
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        logs.configure(settings.current().log_level)
        use_granted_cpus()
        _warm_up()

    def ready(self) -> int:
        """The worker's process id, once its start-up import is done."""
        return os.getpid()

    def train(self, job) -> None:
        """Begin training `job` (a `TrainJob` or a `SeriesJob`) in the background; poll for its progress."""
        self._clear()
        trainer = _trainer_for(job)
        if job.paused:
            trainer.pause()
        self.job_id = job.job_id  # before the job: `weights` (another thread) never pairs the old id with it
        self.job = trainer
        trainer.start()

    def race(self, text: str, config) -> None:
        """Begin a long-range race (`core.race.race.Race`) in the background."""
        from core.race.race import Race

        self._clear()
        self.job = Race(text, config)
        self.job.start()

    def request(self, what: str, message: str | None = None) -> None:
        """Pass on "pause", "resume", "step" (one batch, then paused) or "stop" to the job."""
        if self.job is None:
            return
        if what == "stop" and message is not None:
            self.job.stop(message)
        else:
            getattr(self.job, what)()

    def race_progress(self):
        return self.job.progress() if self.job is not None else None

    def poll(self, rows: int, vals: int, samples: int, curves: int, version: int) -> Delta:
        """What changed since the caller had `rows` training rows, `vals` validation points, `samples`
        samples, `curves` gradient curves and the checkpoint `version`."""
        return delta(self.job, rows, vals, samples, curves, version)

    def weights(self, job_id: str) -> list[np.ndarray] | None:
        """The weights of job `job_id`'s model now (between two steps); None when this worker runs another job.

        Called on a thread of its own (the actor's "weights" concurrency group), so polls never queue behind it while
        it waits for the trainer's lock (one step, or an epoch end)."""
        job = self.job
        if job is None or self.job_id != job_id or not hasattr(job, "weights"):
            return None
        weights = job.weights()
        return weights if self.job is job else None  # a new job began meanwhile: these are not its weights

    def _clear(self) -> None:
        """Drop the last job and Keras' global state, so one worker can serve many trainings.

        Raises:
            WorkerRetired: the last job was still running after JOIN_S; clearing Keras under it is unsafe.
        """
        job, self.job, self.job_id = self.job, None, None
        if job is not None:
            job.stop()
            job.join(JOIN_S)
            if job.alive():
                log.error("A job did not stop within %d s; this worker retires (pid %d)", JOIN_S, os.getpid())
                raise WorkerRetired(f"the last job did not stop within {JOIN_S} s")
        if self.shares_process or "keras" not in sys.modules:  # the server's Keras, or none loaded here to clear
            return
        from core.nn.tf import keras

        keras.backend.clear_session()
        gc.collect()

    def release(self) -> None:
        """Stop and forget the current job; the worker goes back to the pool."""
        self._clear()
