"""Training a language model on a text in a background thread of a worker process (the loop is
`core.training.loop.TrainingLoop`; the epoch-end work is `core.training.epoch_end`'s).

The trainer reports; the page decides how to show it. It never touches Streamlit. In the app it runs
inside a Ray worker (`core.workers.actor`); tests also run it in-process.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from core.config import ModelConfig, TrainConfig
from core.nn.language_model import reset_states
from core.text.batches import contiguous_batches, shuffled_batches, split
from core.text.vocabulary import Vocabulary
from core.training.checkpoint import Checkpoint
from core.training.loop import PUBLISH_EVERY_S, TrainingLoop  # noqa: F401  (PUBLISH_EVERY_S: tests set it here)
from core.training.pace import Pace
from core.training.plan import steps_per_epoch


class Trainer(TrainingLoop):
    """Trains a model from `build_model` in a background thread.

    Args:
        model: the Keras model to train (its weights change in place).
        config: the model's settings.
        train: optimizer, epochs, clipping and the rest.
        ids: the token ids of the whole text; validation comes from its end.
        vocab: the vocabulary, for the samples generated at each epoch end.
        keep_alive: called every few seconds; returning False stops training (the session is gone).
        resume: a `Checkpoint` to continue from (weights, optimizer state, position); None starts afresh.
        epoch_end: the work done at each epoch end (`core.training.epoch_end`); None: what `train` asks of a text
            training (`epoch_end.for_text`).
    """

    def __init__(self, model, config: ModelConfig, train: TrainConfig, ids: np.ndarray, vocab: Vocabulary,
                 keep_alive: Callable[[], bool] | None = None, resume: Checkpoint | None = None,
                 epoch_end: Sequence[Callable] | None = None):
        self.vocab = vocab
        self.train_ids, self.val_ids = split(np.asarray(ids, np.int32), train.val_fraction, config.batch_size, config.seq_len)
        if epoch_end is None:
            from core.training.epoch_end import for_text

            epoch_end = for_text(config, train, vocab, self.train_ids, self.val_ids)
        self._begin(model, config, train, keep_alive, resume, steps_per_epoch(self.train_ids, config, train), epoch_end)
        self.tokens_per_step = config.batch_size * config.seq_len

    def _clock(self) -> Pace:
        return Pace(PUBLISH_EVERY_S)  # read here at each start, so a test can set it on this module

    def _make_step(self):
        """(step, optimizer, fast): the compiled train step of this model, and whether the fused path runs it."""
        from core.nn.train_step import fast_path_available, make_train_step

        fast = fast_path_available(self.config)
        return (*make_train_step(self.model, self.config, self.train, fast=fast), fast)

    def _batches(self, epoch: int):
        """The (inputs, targets) batches of one epoch."""
        cfg = self.config
        if cfg.stateful:
            return contiguous_batches(self.train_ids, cfg.batch_size, cfg.seq_len)
        return shuffled_batches(self.train_ids, cfg.batch_size, cfg.seq_len, cfg.seed + epoch)

    def _epoch_start(self) -> None:
        """Before an epoch's first batch: a stateful model reads the streams from their start."""
        if self.config.stateful:
            reset_states(self.model)
