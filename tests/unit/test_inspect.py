"""core.inspection.unroll, core.inspection.vanishing and core.figures.inspection against NumPy references written here, at tiny sizes."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.figures import inspection as F
from core.inspection import unroll as I
from core.inspection import vanishing as L
from core.inspection import neurons as N
from core.config import ModelConfig
from core.nn.language_model import build_model, rnn_layers
from core.nn.tf import tf

TINY = ModelConfig(vocab_size=7, embedding_dim=3, rnn_units=5, batch_size=2, seq_len=8, stateful=False, seed=3)
IDS = np.random.RandomState(0).randint(0, 7, size=40).astype(np.int32)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---- NumPy references, written from the Keras cell equations --------------------------------------------------


def np_layer(kind, x, kernel, recurrent, bias, delta=None):
    """Unroll one layer in float64 from h = c = 0; `delta` = (t, vector) is added to h_t as it is produced."""
    kernel, recurrent, bias = (np.asarray(a, np.float64) for a in (kernel, recurrent, bias))
    units = recurrent.shape[0]
    bias = bias.reshape(-1, recurrent.shape[1])  # GRU keeps (input bias, recurrent bias)
    b_in, b_rec = bias[0], (bias[1] if len(bias) == 2 else 0.0)
    h, c, out = np.zeros(units), np.zeros(units), []
    for t in range(len(x)):
        xp = x[t] @ kernel + b_in
        if kind == "simple_rnn":
            h = np.tanh(xp + h @ recurrent)
        elif kind == "lstm":
            i, f, g, o = np.split(xp + h @ recurrent, 4)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        else:
            xz, xr, xh = np.split(xp, 3)
            rz, rr, rh = np.split(h @ recurrent + b_rec, 3)
            z, r = sigmoid(xz + rz), sigmoid(xr + rr)
            h = z * h + (1 - z) * np.tanh(xh + r * rh)
        if delta is not None and delta[0] == t:
            h = h + delta[1]
        out.append(h)
    return np.array(out)  # (T, units)


def np_weights(model):
    emb = model.get_layer("embedding").get_weights()[0].astype(np.float64)
    layers = [layer.get_weights() for layer in rnn_layers(model)]
    w_out, b_out = (a.astype(np.float64) for a in model.get_layer("logits").get_weights())
    return emb, layers, w_out, b_out


def np_states(model, ids, kind, perturb=None):
    """All layers' states; perturb = (layer index, t, vector)."""
    emb, layers, _, _ = np_weights(model)
    x, outs = emb[ids], []
    for li, w in enumerate(layers):
        delta = perturb[1:] if perturb is not None and perturb[0] == li else None
        x = np_layer(kind, x, *w, delta=delta)
        outs.append(x)
    return outs


def np_loss(model, ids, kind, perturb=None):
    _, _, w_out, b_out = np_weights(model)
    logits = np_states(model, ids[:-1], kind, perturb)[-1][-1] @ w_out + b_out
    logits = logits - logits.max()
    return float(np.log(np.exp(logits).sum()) - logits[ids[-1]])


def fd_norms(model, ids, kind, layer=0, eps=1e-5):
    """||dL/dh_t|| by central finite differences on every coordinate of every h_t."""
    units = rnn_layers(model)[layer].cell.units
    norms = []
    for t in range(len(ids) - 1):
        g = [(np_loss(model, ids, kind, (layer, t, eps * e)) - np_loss(model, ids, kind, (layer, t, -eps * e))) / (2 * eps)
             for e in np.eye(units)]
        norms.append(np.linalg.norm(g))
    return np.array(norms)


def close(actual, expected, rtol=1e-3):
    """Relative closeness, with a floor far below the values so near-zero gradients still count."""
    floor = 1e-6 * np.max(np.abs(expected))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=floor)


def built(config):
    """A model from `config` whose biases are random too (Keras starts them at zero, which would hide bias bugs)."""
    m = build_model(config)
    rng = np.random.RandomState(config.seed)
    for layer in rnn_layers(m):
        layer.cell.bias.assign(rng.normal(0, 0.5, layer.cell.bias.shape).astype(np.float32))
    return m


@pytest.fixture(scope="module", params=["simple_rnn", "lstm", "gru"])
def model(request):
    return request.param, built(replace(TINY, cell=request.param))


# ---- hidden states and gradients ------------------------------------------------------------------------------


def test_hidden_states_match_numpy(model):
    kind, m = model
    got = I.hidden_states(m, IDS)
    assert got.shape == (40, 5)
    close(got, np_states(m, IDS, kind)[0])


def test_simple_rnn_gradients_match_numpy_bptt():
    m = built(TINY)
    emb, [(kernel, recurrent, bias)], w_out, b_out = np_weights(m)
    inputs, target = IDS[:-1], IDS[-1]
    hs = np_layer("simple_rnn", emb[inputs], kernel, recurrent, bias)  # (T, units)
    logits = hs[-1] @ w_out + b_out
    p = np.exp(logits - logits.max())
    p /= p.sum()
    g = (p - np.eye(len(p))[target]) @ w_out.T  # dL/dh_{T-1}
    expected = [np.linalg.norm(g)]
    for t in range(len(inputs) - 1, 0, -1):
        g = (g * (1 - hs[t] ** 2)) @ recurrent.T  # dL/dh_{t-1} through the recurrence only
        expected.append(np.linalg.norm(g))
    got = I.gradient_norms(m, IDS)
    assert got.shape == (39,)
    close(got, np.array(expected[::-1]))
    assert got[0] < got[-1]  # the signal has something to check: it decays with lag


def test_gradients_match_finite_differences(model):
    kind, m = model
    ids = IDS[:16]
    close(I.gradient_norms(m, ids), fd_norms(m, ids, kind))


def test_two_layer_model(model):
    kind, m1 = model
    m = built(replace(TINY, cell=kind, num_layers=2))
    ref = np_states(m, IDS, kind)
    close(I.hidden_states(m, IDS), ref[0])
    close(I.hidden_states(m, IDS, layer=2), ref[1])
    ids = IDS[:12]
    both = I.gradient_norms_by_layer(m, ids)
    assert both.shape == (2, 11)
    close(both[0], fd_norms(m, ids, kind, layer=0))
    close(both[1], fd_norms(m, ids, kind, layer=1))
    np.testing.assert_array_equal(I.gradient_norms(m, ids), both[0])


def test_stateful_model_state_and_weights_untouched():
    m = built(replace(TINY, cell="lstm", stateful=True, batch_size=3))
    m(np.tile(IDS[:10], (3, 1)))  # leave a nonzero carried state
    before = [np.array(v.numpy()) for layer in rnn_layers(m) for v in layer.states]
    weights = [w.copy() for w in m.get_weights()]
    assert any(np.abs(b).sum() > 0 for b in before)
    got_h, got_g = I.hidden_states(m, IDS), I.gradient_norms(m, IDS)
    after = [np.array(v.numpy()) for layer in rnn_layers(m) for v in layer.states]
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a, b)
    for w, a in zip(weights, m.get_weights()):
        np.testing.assert_array_equal(a, w)
    close(got_h, np_states(m, IDS, "lstm")[0])  # starts from zero, not from the carried state
    assert got_g.shape == (39,)


def test_no_retrace_for_new_lengths():
    m = build_model(TINY)
    I.gradient_norms(m, IDS[:10])
    fn = I._compiled(I.snapshot(m), 1, grad=True)
    count = fn.experimental_get_tracing_count()
    I.gradient_norms(m, IDS[:25])
    I.gradient_norms(build_model(replace(TINY, rnn_units=7, seed=9)), IDS)
    assert fn.experimental_get_tracing_count() == count


def test_topk_matches_model_softmax(model):
    kind, m = model
    ids, probs = I.next_token_topk(m, IDS, k=3)
    full = tf.nn.softmax(m(IDS[None])[0]).numpy()  # (T, vocab)
    assert ids.shape == probs.shape == (40, 3)
    np.testing.assert_array_equal(ids[:, 0], full.argmax(axis=1))
    close(probs, np.take_along_axis(full, ids.astype(int), axis=1))
    assert np.all(np.diff(probs, axis=1) <= 0)


def test_bad_input_says_what_to_do():
    m = build_model(TINY)
    with pytest.raises(ValueError, match="vocabulary"):
        I.hidden_states(m, [1, 2, 99])
    with pytest.raises(ValueError, match="at least 2"):
        I.gradient_norms(m, [1])
    with pytest.raises(ValueError, match="layers 1 to 1"):
        I.hidden_states(m, IDS, layer=2)


# ---- lab -------------------------------------------------------------------------------------------------------


def test_eigenvalues_per_block_match_numpy():
    m = build_model(replace(TINY, cell="lstm"))
    rk = rnn_layers(m)[0].cell.recurrent_kernel.numpy()
    eigs = L.recurrent_eigenvalues(m)
    assert list(eigs) == ["i", "f", "c", "o"]
    for k, name in enumerate("ifco"):
        ref = np.linalg.eigvals(rk[:, 5 * k:5 * k + 5].astype(np.float64))
        dist = np.abs(eigs[name][:, None] - ref[None, :]).min(axis=1)  # each value has a partner
        assert dist.max() < 1e-5, name
        assert L.spectral_radius(eigs[name]) == pytest.approx(np.abs(ref).max(), rel=1e-6)
    assert list(L.recurrent_eigenvalues(build_model(replace(TINY, cell="gru")))) == ["z", "r", "h"]


def test_decay_fit_recovers_slope():
    lag = np.arange(60)[::-1]
    norms = 10.0 ** (1.5 - 0.04 * lag) * np.exp(np.random.RandomState(1).normal(0, 0.01, 60))
    norms[[3, 17]] = 0.0  # zeros are ignored
    fit = L.fit_decay(norms)
    assert fit.slope == pytest.approx(-0.04, abs=2e-4)
    assert fit.factor == pytest.approx(10 ** -0.04, rel=1e-3)
    assert fit.points == 58
    assert np.isnan(L.fit_decay([0.0, 1.0]).slope)


def test_pattern_signal_and_unit_order():
    text = 'say "hi" (a(b)c) x'
    np.testing.assert_array_equal(N.pattern_signal(text, '"'), [0, 0, 0, 0, 1, 1, 1, 0] + [0] * 10)
    paren = N.pattern_signal(text, "()")
    assert "".join(ch for ch, s in zip(text, paren) if s) == "(a(b)c"
    np.testing.assert_array_equal(np.flatnonzero(N.pattern_signal(text, "hi")), [5, 6])
    np.testing.assert_array_equal(N.pattern_signal(["a", "(", "b"], "(", mode="match"), [0, 1, 0])
    with pytest.raises(ValueError, match="empty"):
        N.pattern_signal(text, "")
    signal = N.pattern_signal(text, '"')
    rng = np.random.RandomState(2)
    states = rng.normal(0, 0.1, (len(text), 4))
    states[:, 2] = -signal + rng.normal(0, 0.01, len(text))  # unit 2 tracks the quotes, with a minus sign
    states[:, 1] *= 10  # unit 1 varies most
    assert N.order_units(states, "correlation", signal)[0] == 2
    assert N.order_units(states, "variance")[0] == 1
    np.testing.assert_array_equal(N.order_units(states), np.arange(4))
    assert N.unit_correlations(states, signal)[2] < -0.99
    assert N.saturation_share(np.array([[0.96, -0.97], [0.5, 0.0]])) == 0.5


def test_compare_cells_same_seed():
    out = L.compare_cells(replace(TINY, stateful=True), IDS[:20])
    assert list(out) == ["simple_rnn", "lstm", "gru"]
    assert out["lstm"].norms.shape == (19,) and set(out["gru"].eigenvalues) == {"z", "r", "h"}
    assert np.isfinite(out["simple_rnn"].fit.slope) and out["simple_rnn"].radius["U"] > 0


# ---- figures ---------------------------------------------------------------------------------------------------


def test_activation_html_escapes_everything():
    text = '<script>alert("x")</script>\n&'
    out = F.activation_html(list(text), np.linspace(-1, 1, len(text)))
    assert "<script" not in out and "&lt;" in out and "&quot;" in out and "&amp;" in out
    assert out.count("<br>") == 1
    word = F.activation_html(["<script>", "\n", "ok"], np.array([1.0, 0.0, -1.0]))
    assert "<script>" not in word and "&lt;script&gt;" in word
    tags = set(re.findall(r"<(/?\w+)", out))
    assert tags <= {"div", "/div", "span", "/span", "br"}


def test_word_tokens_keep_their_spaces_and_their_labels_do_not_overlap():
    words = ["the", "cat", "sat", "\n", "on", "the", "mat"]
    out = F.activation_html(words, np.zeros(len(words)), words=True)
    text = re.sub(r"<[^>]+>", "", out.replace("<br>", "\n"))
    assert text == "the cat sat\non the mat"
    many = [f"word{i}" for i in range(200)]  # 200 five-letter words: about 20 labels fit in 100 characters
    vals, texts = F._time_ticks(many, [f"step {t}: {w}" for t, w in enumerate(many)])
    steps = [int(v.split(":")[0].split()[1]) for v in vals]
    assert 10 <= len(texts) <= 25 and texts == [many[t] for t in steps]
    chars_per_step = 100 / len(many)
    for a, b in zip(steps, steps[1:]):  # centres further apart than half of each label, in characters
        assert (b - a) * chars_per_step >= (len(many[a]) + len(many[b])) / 2


def test_figures_build():
    states = np.random.RandomState(0).uniform(-1, 1, (6, 4))
    fig = F.state_heatmap(states, list("ab \ncd"), units=[3, 1])
    assert fig.data[0].z.shape == (2, 6) and "⏎" in fig.layout.xaxis.ticktext
    assert fig.data[0].x[3] == "step 3: ⏎" and list(fig.data[0].y) == ["3", "1"]
    np.testing.assert_array_equal(fig.data[0].z[0], states[:, 3])
    g = F.gradient_decay_figure({"SimpleRNN": 0.9 ** np.arange(30)[::-1], "LSTM": np.r_[0.0, np.ones(29)]})
    assert g.layout.yaxis.type == "log" and "per step" in g.data[0].name
    e = F.eigenvalue_figure({"U": np.array([0.5 + 0.5j, 1.2])})
    assert e.data[0].name == "unit circle" and "1.2" in e.data[1].name


def test_unrolled_diagram_is_well_formed_svg():
    import xml.etree.ElementTree as ET

    from core.figures.training import unrolled_svg

    root = ET.fromstring(unrolled_svg("a<b", "<b>"))
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(ns + "text")]
    assert len(list(root.iter(ns + "rect"))) == 1 + 3 * 3  # h0, then input, state and guess per step
    assert ["'a'", "'<'", "'b'"] == [t for t in texts if t in ("'a'", "'<'", "'b'")]  # escaped in the file, read back
    assert texts.count("U") == 3 and texts.count("W") == 3
