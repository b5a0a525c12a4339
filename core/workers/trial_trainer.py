"""One trial of a sweep as the web server sees it (`TrialTrainer`, a `RemoteTrainer` fed by its sweep), and the sweep's
early stopping (`Asha`, plain data until Ray is up)."""

from __future__ import annotations

from dataclasses import dataclass

from core.workers.remote_trainer import RemoteTrainer

ENDED = ("finished", "stopped", "failed", "lost")


class TrialTrainer(RemoteTrainer):
    """One trial of a sweep, as the server sees it: the same snapshots and requests as a `RemoteTrainer`.

    While its sweep runs it, `start` does nothing, and pause and stop are passed on by the sweep. Its model is built
    only when someone asks for it (Generate, Open), with the weights of its latest checkpoint.
    """

    def __init__(self, index: int, label: str, config, train, ids, vocab, keep_alive=None):
        self.index, self.label, self.in_sweep = index, label, True
        self.granted = False  # it holds a training slot (its Tune actor may train)
        self._model = None
        super().__init__(None, config, train, ids, vocab, keep_alive)
        self._publish(status="waiting", message="Waiting for its turn in the sweep.")

    @property
    def model(self):
        """The server's copy of the trial's model, built on first use with its latest checkpoint's weights."""
        if self._model is None:
            from core.nn.language_model import build_model

            model = build_model(self.config)
            if self.checkpoint is not None and self.checkpoint.weights:
                model.set_weights(list(self.checkpoint.weights))
            self._model = model
        return self._model

    @model.setter
    def model(self, value) -> None:
        self._model = value

    def _set_weights(self, weights) -> None:
        if self._model is not None:  # otherwise the checkpoint keeps them until the model is built
            super()._set_weights(weights)

    def active(self) -> bool:
        return self.in_sweep or super().active()

    def start(self) -> None:
        """Continue training in a worker of its own, once the sweep is done with it (ignored until then)."""
        if not self.in_sweep:
            super().start()

    def wanted(self) -> tuple[bool, str | None]:
        """(paused, the stop sentence or None): what the user asked of this trial."""
        return not self._resume.is_set(), self._stop_message if self._stop.is_set() else None

    def waiting(self, sentence: str) -> None:
        """Show why it has not started yet."""
        self._publish(status="waiting", message=sentence)

    def take(self, delta) -> None:
        """A delta from the trial's Tune actor."""
        self._merge(delta)
        if self._progress.status in ENDED:
            self.in_sweep = False

    def end(self, status: str, message: str) -> None:
        """The trial ended without saying so itself (stopped before it started, its worker lost)."""
        if self.in_sweep:
            self._publish(status=status, message=message, tokens_per_s=0.0, eta_s=0.0)
            self.in_sweep = False


@dataclass(frozen=True)
class Asha:
    """Early stopping with Tune's ASHA: each trial is first judged after `grace` epochs, and at each judging only the
    best 1/`reduction` of the trials seen at that epoch go on. (Plain data: Tune's scheduler is made once Ray is up,
    since importing Ray Tune before that would start Ray without its settings.)"""

    # Measured (bench/sweep.py, 16 Quick demo trials of 20 epochs): judged first after 1 epoch, keeping a third, ASHA took
    # 30% of the time but stopped the best trial (a slow starter: 256 units at a low learning rate) and found a best 29%
    # worse; after 2 epochs, half kept, 42% and the same miss; after 3 epochs, half kept, 56% and the exhaustive best.
    grace: int = 3
    reduction: int = 2

    def scheduler(self, epochs: int):
        from ray.tune.schedulers import ASHAScheduler

        return ASHAScheduler(time_attr="training_iteration", max_t=epochs, grace_period=max(1, min(self.grace, epochs)),
                             reduction_factor=self.reduction)
