"""core.nn.language_model.build_model from several threads: sessions build side by side, and a build is the same
whichever thread runs it and whatever runs beside it (N10: one global lock used to serialise every session's builds)."""

import threading

import numpy as np

from core.config import ModelConfig
from core.nn.language_model import build_model
from core.nn.tf import keras

CONFIG = ModelConfig(vocab_size=11, embedding_dim=5, rnn_units=6, batch_size=3, seq_len=4, cell="lstm", num_layers=2)


def _in_threads(*builds):
    """Run each zero-argument build in its own thread, all released at once; their results, in order."""
    out, errors, start = [None] * len(builds), [], threading.Barrier(len(builds))

    def run(i, build):
        try:
            start.wait(timeout=30)
            out[i] = build()
        except BaseException as err:  # noqa: BLE001  (reported below, in the test's thread)
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i, b)) for i, b in enumerate(builds)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and all(not t.is_alive() for t in threads), errors
    return out


def test_two_builds_at_once_give_the_weights_of_one_alone():
    alone = build_model(CONFIG).get_weights()
    first, second = _in_threads(lambda: build_model(CONFIG), lambda: build_model(CONFIG))
    for model in (first, second):
        assert [layer.name for layer in model.layers] == ["tokens", "embedding", "rnn_1", "rnn_2", "logits"]
        for mine, want in zip(model.get_weights(), alone, strict=True):
            np.testing.assert_array_equal(mine, want)


def test_a_slow_build_does_not_hold_up_another(monkeypatch):
    """While one session's orthogonal initializer is still drawing, another session's model gets built."""
    slow_inside, other_built, waited, slow_thread = threading.Event(), threading.Event(), [], []
    orthogonal = keras.initializers.Orthogonal

    class Slow(orthogonal):
        def __call__(self, shape, dtype=None):
            # only in the slow build's thread: another thread of this process may draw an orthogonal matrix meanwhile
            if threading.get_ident() in slow_thread:
                slow_inside.set()
                waited.append(other_built.wait(timeout=15))  # False: the other build could not start meanwhile
            return super().__call__(shape, dtype)

    monkeypatch.setattr(keras.initializers, "Orthogonal", Slow)

    def other():
        assert slow_inside.wait(timeout=30)
        model = build_model(ModelConfig(vocab_size=7, embedding_dim=3, rnn_units=4, recurrent_initializer="glorot_uniform"))
        other_built.set()
        return model

    def slow_build():
        slow_thread.append(threading.get_ident())
        return build_model(ModelConfig(vocab_size=7, embedding_dim=3, rnn_units=4))

    slow, fast = _in_threads(slow_build, other)
    assert waited == [True]
    assert slow.count_params() == fast.count_params()
