"""A sweep's side inside Ray: the hub actor that carries progress and requests, and the function each Tune trial runs.

    server (core.workers.sweep) ──controls: slot granted, pause, stop──▶ SweepHub ◀──Delta per 0.3 s── trial (Tune actor)
    server ◀──────────────────── messages: want a slot, deltas, stopped early ─┘

Only plain data crosses: the `SweepJob` (settings, token ids, the vocabulary), `core.workers.messages.Delta`s with
their checkpoints, and short tuples. A trial trains with the project's own `core.training.trainer.Trainer` (the fused
SimpleRNN step included) and reports its validation loss to Tune at every epoch end, so ASHA can stop it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass

import numpy as np

from core.workers.messages import STOPPED_BY_YOU

POLL_S = 0.3  # how often a trial sends its progress and reads its requests
log = logging.getLogger(__name__)


def early_message(epoch: int) -> str:
    """The sentence of a trial that ASHA stopped after `epoch` epochs."""
    return (f"Stopped early at epoch {epoch} (ASHA): its validation loss was behind the other trials' at the same epoch, "
            "so its slot went to a more promising one.")


@dataclass(frozen=True)
class SweepJob:
    """Everything every trial of one sweep needs, as plain data (put in Ray's object store once)."""

    hub: str  # the name of the sweep's `SweepHub` actor
    ids: np.ndarray  # token ids of the whole text
    vocab: object  # core.text.vocabulary.Vocabulary
    settings: tuple  # (ModelConfig, TrainConfig) of each trial, by index


@dataclass
class Control:
    """What the server asks of one trial."""

    granted: bool = False  # it holds a training slot and may train
    paused: bool = False
    stop: str | None = None  # the sentence to stop with, once asked


class SweepHub:
    """A mailbox between the server and a sweep's trials (a Ray actor with no CPU). Trials push; the server pulls."""

    def __init__(self):
        self.messages: list[tuple] = []  # (trial index, kind, payload): kind "want", "delta" or "unstarted"
        self.controls: dict[int, Control] = {}

    def push(self, index: int, kind: str, payload=None) -> None:
        self.messages.append((index, kind, payload))

    def pull(self, start: int) -> list[tuple]:
        """The messages from number `start` on."""
        return self.messages[start:]

    def control(self, index: int) -> Control:
        return self.controls.get(index) or Control()

    def set_control(self, index: int, granted: bool, paused: bool, stop: str | None) -> None:
        self.controls[index] = Control(granted, paused, stop)


def run_trial(config: dict, job: SweepJob) -> None:
    """The function Tune runs for one trial (`config["index"]` says which): wait for a slot, train, report."""
    import ray
    from ray import tune

    os.environ["TUNE_FUNCTION_THREAD_TIMEOUT_S"] = "30"  # read when Tune reuses this actor: let our trainer stop first
    index = config["index"]
    hub = ray.get_actor(job.hub)
    ray.get(hub.push.remote(index, "want"))
    while not (control := ray.get(hub.control.remote(index))).granted:
        if control.stop is not None:
            ray.get(hub.push.remote(index, "unstarted", control.stop))
            return
        time.sleep(POLL_S)
    from core.workers.actor import use_granted_cpus

    use_granted_cpus()  # before TensorFlow starts in this actor (a reused one has it started already)
    from core.nn.language_model import build_model
    from core.nn.tf import keras
    from core.training.trainer import Trainer

    keras.backend.clear_session()  # a reused actor: the last trial's graphs go
    model_config, train = job.settings[index]
    trainer = Trainer(build_model(model_config), model_config, train, job.ids, job.vocab)
    judged = _Judged(train.epochs)
    trainer.between_epochs = judged
    trainer.start()
    follow = _Follow(index, trainer, hub, judged)
    try:
        follow.run(tune)
    except SystemExit:  # Tune ended this trial: ASHA stopped it at the epoch it last reported
        if follow.reported < train.epochs:
            trainer.stop(early_message(follow.reported))
        judged.release()
        trainer.join(30)
        try:
            follow.send()  # its last snapshot (the server already has the epochs it reported, and how it ended)
        except Exception:  # the sweep has ended and its hub is gone: nothing is lost
            log.debug("A trial's last snapshot found no hub", exc_info=True)
        raise
    finally:
        judged.release()
        trainer.stop()
        trainer.join(30)


class _Judged:
    """The trainer's `between_epochs`: hands each epoch's validation loss over, and, before the last epoch, waits until
    Tune has judged it (so a trial never trains past ASHA's decision). It waits after the epoch's checkpoint and
    snapshot, so the server has both before Tune decides."""

    def __init__(self, epochs: int):
        self.epochs = epochs
        self.ended: queue.Queue = queue.Queue()  # (epoch, validation loss) not yet reported
        self._judged = threading.Event()
        self._released = False

    def __call__(self, epoch: int, history) -> None:
        if self._released or not history.val_loss:
            return
        self._judged.clear()
        self.ended.put((epoch, float(history.val_loss[-1])))
        if epoch >= self.epochs:  # the last: the trainer finishes, and the trial reports once it has
            return
        while not self._judged.wait(POLL_S) and not self._released:
            pass

    def judged(self) -> None:
        """Tune has the epoch's result and wants the next: train on."""
        self._judged.set()

    def release(self) -> None:
        """Never wait again (the trial is ending)."""
        self._released = True
        self._judged.set()


class _Follow:
    """Passes the server's requests on to a trial's trainer and its progress back, and reports each epoch's validation
    loss to Tune, until the trainer ends. Everything the server shows of an epoch reaches it before Tune hears of it:
    Tune's decision then ends a trial whose story the server already has."""

    def __init__(self, index: int, trainer, hub, judged: _Judged):
        self.index, self.trainer, self.hub, self.judged = index, trainer, hub, judged
        self.counts, self.version, self.reported = [0, 0, 0, 0], 0, 0
        self.paused = self.stopping = False

    def send(self):
        """Push what changed since the last push to the hub; the delta."""
        import ray

        from core.workers.actor import delta

        d = delta(self.trainer, *self.counts, self.version)
        for i, new in enumerate((d.rows["steps"], d.val[0], d.samples, d.grad_curves)):
            self.counts[i] += len(new)
        if d.checkpoint is not None:
            self.version = d.checkpoint.version
        ray.get(self.hub.push.remote(self.index, "delta", d))
        return d

    def run(self, tune) -> None:
        import ray

        while True:
            control = ray.get(self.hub.control.remote(self.index))
            if control.paused != self.paused:
                self.paused = control.paused
                self.trainer.pause() if self.paused else self.trainer.resume()
            if control.stop is not None and not self.stopping:
                self.stopping = True
                self.trainer.stop(control.stop)
            d = self.send()
            try:
                epoch, loss = self.judged.ended.get(timeout=POLL_S)
            except queue.Empty:
                if not d.alive:
                    return
                continue
            if epoch >= self.judged.epochs:
                self.trainer.join(60)  # the last epoch: report once the trainer has finished and said so
            self.send()  # the epoch's validation loss and checkpoint (and the end, after the last)
            self.reported = epoch
            tune.report({"val_loss": loss, "epoch": epoch})  # returns when Tune asks for the next result
            self.judged.judged()


__all__ = ["Control", "STOPPED_BY_YOU", "SweepHub", "SweepJob", "early_message", "run_trial"]
