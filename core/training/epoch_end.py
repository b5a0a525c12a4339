"""The work a training does at each epoch end, passed to the trainer as callbacks and built once per training.

Each callback is called as `work(model, epoch, step, history)` under the trainer's model lock, between two steps,
and appends what it measured to `history`. The trainer knows none of them: a text training gets validation, a
generated sample and the gradient-vs-lag curve (`for_text`); a forecaster gets its validation error
(`core.forecast.trainer`). Whatever compiles a graph (the evaluator, the sampler's stepper) is built on the first
epoch end, so it never delays the first step, and is reused after that.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from core.config import ModelConfig, TrainConfig
from core.text.vocabulary import Vocabulary
from core.training.progress import History

EpochEnd = Callable[[object, int, int, History], None]  # (model, epoch from 1, steps so far, history)


class Validation:
    """Validation loss and accuracy on the end of the text."""

    def __init__(self, config: ModelConfig, val_ids: np.ndarray):
        self.config, self.val_ids, self._evaluator = config, val_ids, None

    def __call__(self, model, epoch: int, step: int, history: History) -> None:
        from core.nn.train_step import Evaluator

        if self._evaluator is None:
            self._evaluator = Evaluator(self.config, self.val_ids)
        loss, acc = self._evaluator(model)
        history.val_steps.append(step), history.val_loss.append(loss), history.val_accuracy.append(acc)


class Sample:
    """A sample generated from the first token of the text, seeded per epoch (one compiled stepper, reset each time)."""

    def __init__(self, vocab: Vocabulary, prompt: str, length: int, temperature: float, seed: int):
        self.vocab, self.prompt, self.length, self.temperature, self.seed = vocab, prompt, length, temperature, seed
        self._stepper = None

    def __call__(self, model, epoch: int, step: int, history: History) -> None:
        from core.nn.generate import Stepper, generate

        if self._stepper is None or self._stepper.model is not model:
            self._stepper = Stepper(model)  # shares the model's weights: it reads this epoch's
        self._stepper.reset()
        sample = generate(self._stepper, self.vocab, self.prompt, self.length, self.temperature, seed=self.seed + epoch)
        history.samples.append((epoch, sample.prompt + sample.text))


class GradientCurve:
    """||dL/dh_t|| against the lag, on the first tokens of the text."""

    def __init__(self, ids: np.ndarray):
        self.ids = ids

    def __call__(self, model, epoch: int, step: int, history: History) -> None:
        from core.inspection.unroll import gradient_norms

        history.grad_curves.append((epoch, gradient_norms(model, self.ids)))


def for_text(config: ModelConfig, train: TrainConfig, vocab: Vocabulary, train_ids: np.ndarray,
             val_ids: np.ndarray) -> list[EpochEnd]:
    """The epoch-end work of a text training, as `train` asks for it.

    Args:
        config: the model's settings (validation builds a stateless twin of it).
        train: `sample_length`, `sample_temperature` and `grad_curve_len` say which work is done.
        vocab: the vocabulary, for the samples.
        train_ids, val_ids: the text's training part (its first tokens are the prompt and the curve's input) and
            its validation end.

    Returns:
        The callbacks, in the order they run.
    """
    work: list[EpochEnd] = []
    if len(val_ids) > 1:
        work.append(Validation(config, val_ids))
    if train.sample_length:
        work.append(Sample(vocab, vocab.decode(train_ids[:1]), train.sample_length, train.sample_temperature, config.seed))
    if train.grad_curve_len:
        work.append(GradientCurve(train_ids[: train.grad_curve_len + 1]))
    return work
