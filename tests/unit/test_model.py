"""core.nn.language_model and core.config: the Keras 3 model, checked against NumPy and hand-counted parameters."""

import dataclasses
import os

import numpy as np
import pytest

from core.config import ARTICLE, ModelConfig, TrainConfig, from_query, to_query
from core.nn.language_model import build_model, count_params, parameter_rows, reset_states, summary_text
from tests import reference as R
from tests.helpers import TINY



def numpy_forward(model, ids, state=None):
    """(logits, hidden states of the last layer, final states) from tests/reference.py, on the model's own weights."""
    logits, states, final = R.lm_forward(model, ids, state)
    return logits, states[-1], final


def test_simple_rnn_forward_matches_numpy_and_carries_state():
    model = build_model(TINY)
    ids = np.random.default_rng(0).integers(0, 7, (2, 5)).astype(np.int32)
    logits, _, final = numpy_forward(model, ids)
    np.testing.assert_allclose(model(ids).numpy(), logits, rtol=1e-5, atol=1e-6)
    # Stateful: a second call starts from the last state of the first.
    ids2 = np.random.default_rng(1).integers(0, 7, (2, 5)).astype(np.int32)
    logits2, _, _ = numpy_forward(model, ids2, final)
    np.testing.assert_allclose(model(ids2).numpy(), logits2, rtol=1e-5, atol=1e-6)
    reset_states(model)
    np.testing.assert_allclose(model(ids).numpy(), logits, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_match_numpy_and_carry_their_state(cell):
    config = dataclasses.replace(TINY, cell=cell, num_layers=2)
    model = build_model(config)
    ids = np.ones((2, 5), np.int32)
    first = model(ids).numpy()
    assert first.shape == (2, 5, 7)
    want, _, final = numpy_forward(model, ids)
    np.testing.assert_allclose(first, want, rtol=1e-5, atol=1e-6)
    second = model(ids).numpy()
    assert not np.allclose(first, second)  # the carried state changed the output...
    np.testing.assert_allclose(second, numpy_forward(model, ids, final)[0], rtol=1e-5, atol=1e-6)  # ...h and c of both layers
    reset_states(model)
    np.testing.assert_allclose(model(ids).numpy(), first, rtol=1e-6)
    stateless = build_model(config, stateful=False)
    assert stateless(np.ones((3, 9), np.int32)).shape == (3, 9, 7)


def test_reference_sizes_and_hand_counted_parameters():
    model = build_model(ModelConfig(vocab_size=10000, embedding_dim=256, rnn_units=1024, batch_size=64))
    assert [layer.count_params() for layer in model.layers[1:]] == [2_560_000, 1_311_744, 10_250_000]
    assert model.count_params() == 14_121_744
    config = ModelConfig(vocab_size=10000, embedding_dim=256, rnn_units=1024, batch_size=64)
    assert count_params(config) == 14_121_744
    assert model.input_shape == (64, None)
    text = summary_text(model)
    assert "Total params: 14,121,744" in text and "Param #" in text and "(64, None, 1024)" in text


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_parameter_rows_match_keras(cell, layers):
    config = ModelConfig(vocab_size=11, embedding_dim=5, rnn_units=6, num_layers=layers, cell=cell)
    model = build_model(config)
    rows = parameter_rows(config)
    assert [r.count for r in rows] == [layer.count_params() for layer in model.layers[1:]]


def test_same_seed_same_weights_other_seed_other_weights():
    a, b = build_model(TINY).get_weights(), build_model(TINY).get_weights()
    c = build_model(dataclasses.replace(TINY, seed=7)).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize(
    "field, value, words",
    [("rnn_units", 0, "rnn_units.*1 to 4096.*got 0"), ("cell", "transformer", "cell.*simple_rnn, lstm, gru"),
     ("batch_size", 10**6, "batch_size"), ("dropout", 1.5, "dropout"), ("recurrent_init_scale", float("nan"), "scale"),
     ("num_layers", True, "num_layers")],
)
def test_config_rejects_bad_values_naming_the_field(field, value, words):
    with pytest.raises(ValueError, match=words):
        dataclasses.replace(ModelConfig(), **{field: value})


def test_config_round_trips_through_a_query_string():
    config = dataclasses.replace(ARTICLE, cell="gru", stateful=False, dropout=0.25)
    query = to_query(config)
    assert query["cell"] == "gru" and query["stateful"] == "false"
    assert from_query(ModelConfig, query) == config
    assert from_query(TrainConfig, {"epochs": "7", "unknown": "x"}).epochs == 7
    with pytest.raises(ValueError, match="rnn_units"):
        from_query(ModelConfig, {"rnn_units": "many"})


def _snippet_case(folder, level):
    """A model of `level` trained a few steps on the fast path, its `.keras` and vocabulary JSON written to `folder`:
    (the page's snippet for it, what the model predicts for the snippet's prompt)."""
    from core.nn.language_model import keras_file, load_snippet
    from core.nn.tf import tf
    from core.nn.train_step import make_train_step
    from core.text.vocabulary import Vocabulary

    text = "the cat sat on the mat . the dog sat on the log .\n" * 20
    vocab = Vocabulary.build(text, level)
    config = dataclasses.replace(TINY, vocab_size=len(vocab), embedding_dim=8, rnn_units=6, batch_size=3, seq_len=4)
    model = build_model(config)
    step, _ = make_train_step(model, config, TrainConfig(learning_rate=0.05), fast=True)
    ids = vocab.encode(text)[: 3 * 5].reshape(3, 5)
    for _ in range(3):
        step(tf.constant(ids[:, :4]), tf.constant(ids[:, 1:]))
    folder.mkdir()
    (folder / "m.keras").write_bytes(keras_file(model))
    (folder / "v.json").write_text(vocab.to_json(), encoding="utf-8")
    prompt = vocab.decode(ids[0, :4])
    reset_states(model)  # a loaded model starts from zeros: Keras saves weights, not the carried state
    want = model.predict(np.array([vocab.encode(prompt)] * 3), verbose=0)
    return load_snippet(config, level, prompt, "m.keras", "v.json"), want, vocab.tokens


@pytest.mark.slow  # a fresh Python that imports Keras: ~5 s
def test_downloaded_model_loads_in_plain_keras(tmp_path):
    """The `.keras` bytes and the vocabulary JSON, trained a few steps on the fast path, load in a fresh
    Python that cannot import this project, and the page's snippet predicts what the model predicts; for a char
    model and a word model, each snippet run as written in its own folder (one interpreter for both)."""
    import subprocess
    import sys

    cases = {level: _snippet_case(tmp_path / level, level) for level in ("char", "word")}
    save = "np.save('logits.npy', logits)\n"
    runs = "".join(f"os.chdir({str(tmp_path / level)!r})\nexec({code + save!r}, {{'__name__': '__main__'}})\n"
                   for level, (code, _, _) in cases.items())
    code = "import importlib.util, os\nassert importlib.util.find_spec('core') is None\n" + runs
    out = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    for level, (_, want, _) in cases.items():
        got = np.load(tmp_path / level / "logits.npy")
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=level)
    # each snippet prints the token its model finds likeliest next
    assert out.stdout.strip().splitlines() == [repr(tokens[int(np.argmax(want[0, -1]))])
                                               for _, want, tokens in cases.values()]


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_zero_weight_build_has_the_same_summary(cell):
    """The Model page shows the summary of a zero-weight build (fast at 4096 units); it must read the same."""
    config = dataclasses.replace(TINY, cell=cell, num_layers=2)
    fast = build_model(config, zeros=True)
    assert summary_text(fast) == summary_text(build_model(config))
    assert all(not np.any(w) for w in fast.get_weights() if w.ndim == 2)  # (an LSTM keeps its forget bias of 1)


def test_summary_is_whole_at_any_terminal_width_and_leaves_the_environment_alone(monkeypatch):
    """N23: summary_text set $COLUMNS for the whole process while Keras drew the table (rich reads it, and without
    it rich cut the table at 80 columns). Now the width is its own, and every other thread sees $COLUMNS unchanged."""
    import rich.console

    seen = []
    end_capture = rich.console.Console.end_capture
    monkeypatch.setattr(rich.console.Console, "end_capture", lambda self: seen.append(os.environ.get("COLUMNS"))
                        or end_capture(self))
    monkeypatch.setenv("COLUMNS", "40")
    text = summary_text(build_model(TINY), line_length=90)
    assert seen == ["40"]
    lines = text.splitlines()
    assert "Param #" in text and "Total params" in text
    assert max(len(line) for line in lines) == 90 and len(lines[1]) == 90
    assert rich.console.Console().width == 40  # a Console made anywhere else still follows $COLUMNS
