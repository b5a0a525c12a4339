"""core.inspection.unroll, core.inspection.vanishing and core.figures.inspection against NumPy references written here, at tiny sizes."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from core.figures import inspection as F
from core.inspection import unroll as I
from core.inspection import vanishing as L
from core.inspection import neurons as N
from core.nn.language_model import build_model, rnn_layers
from core.nn.tf import tf
from tests import reference as R
from tests.helpers import TINY as SHARED_TINY
from tests.helpers import built
from tests.reference import close

TINY = replace(SHARED_TINY, rnn_units=5, seq_len=8, stateful=False, seed=3)  # 5 units: gate blocks that differ in size
IDS = np.random.RandomState(0).randint(0, 7, size=40).astype(np.int32)


def np_states(model, ids, perturb=None):
    """Every layer's hidden states (T, units) from tests/reference.py; perturb = (layer index, t, vector)."""
    return R.lm_forward(model, ids, perturb=perturb)[1]


def np_loss(model, ids, perturb=None):
    """Cross-entropy of the last step's guess at ids[-1], reading ids[:-1]."""
    logits = R.lm_forward(model, ids[:-1], perturb=perturb)[0]
    return R.cross_entropy(logits[-1], ids[-1])


def fd_norms(model, ids, layer=0, eps=1e-5):
    """||dL/dh_t|| by central finite differences on every coordinate of every h_t."""
    units = rnn_layers(model)[layer].cell.units
    return np.array([np.linalg.norm(R.numeric_grad(lambda v: np_loss(model, ids, (layer, t, v)), np.zeros(units), eps))
                     for t in range(len(ids) - 1)])


@pytest.fixture(scope="module", params=["simple_rnn", "lstm", "gru"])
def model(request):
    return request.param, built(replace(TINY, cell=request.param))


# ---- hidden states and gradients ------------------------------------------------------------------------------


def test_hidden_states_match_numpy(model):
    kind, m = model
    got = I.hidden_states(m, IDS)
    assert got.shape == (40, 5)
    close(got, np_states(m, IDS)[0])


def test_simple_rnn_gradients_match_numpy_bptt():
    m = built(TINY)
    emb, [(kind, activation, kernel, recurrent, bias)], w_out, b_out = R.lm_weights(m)
    inputs, target = IDS[:-1], IDS[-1]
    hs, _ = R.forward(kind, emb[inputs], kernel, recurrent, bias, activation=activation)  # (T, units)
    logits = hs[-1] @ w_out + b_out
    p = np.exp(logits - logits.max())
    p /= p.sum()
    dy = np.zeros_like(hs)
    dy[-1] = (p - np.eye(len(p))[target]) @ w_out.T  # dL/dh_{T-1}; earlier states reach the loss through the recurrence only
    expected = np.linalg.norm(R.backward(kind, emb[inputs], kernel, recurrent, bias, dy, activation=activation)["dh"], axis=1)
    got = I.gradient_norms(m, IDS)
    assert got.shape == (39,)
    close(got, expected)
    assert got[0] < got[-1]  # the signal has something to check: it decays with lag


def test_gradients_match_finite_differences(model):
    _, m = model
    ids = IDS[:16]
    close(I.gradient_norms(m, ids), fd_norms(m, ids))


@pytest.mark.parametrize("kind", ["simple_rnn", pytest.param("lstm", marks=pytest.mark.slow),  # the fast tier keeps
                                  pytest.param("gru", marks=pytest.mark.slow)])  # one two-layer case, as connectivity's
def test_two_layer_model(kind):
    m = built(replace(TINY, cell=kind, num_layers=2))
    ref = np_states(m, IDS)
    close(I.hidden_states(m, IDS), ref[0])
    close(I.hidden_states(m, IDS, layer=2), ref[1])
    ids = IDS[:12]
    both = I.gradient_norms_by_layer(m, ids)
    assert both.shape == (2, 11)
    close(both[0], fd_norms(m, ids, layer=0))
    close(both[1], fd_norms(m, ids, layer=1))
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
    close(got_h, np_states(m, IDS)[0])  # starts from zero, not from the carried state
    assert got_g.shape == (39,)


def test_no_retrace_for_new_lengths():
    m = build_model(TINY)
    I.gradient_norms(m, IDS[:10])
    count = I.tracing_count()
    assert count >= 1
    I.gradient_norms(m, IDS[:25])
    I.gradient_norms(build_model(replace(TINY, rnn_units=7, seed=9)), IDS)
    assert I.tracing_count() == count


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
    """Each cell is the model the config's seed builds: the same seed gives the same numbers, another seed others."""
    config = replace(TINY, stateful=True)
    out = L.compare_cells(config, IDS[:20])
    assert list(out) == ["simple_rnn", "lstm", "gru"]
    assert out["lstm"].norms.shape == (19,) and set(out["gru"].eigenvalues) == {"z", "r", "h"}
    assert np.isfinite(out["simple_rnn"].fit.slope) and out["simple_rnn"].radius["U"] > 0
    again = L.compare_cells(config, IDS[:20])
    other = L.compare_cells(replace(config, seed=config.seed + 1), IDS[:20])
    for cell in out:
        seeded = build_model(replace(config, cell=cell, stateful=False))
        np.testing.assert_array_equal(out[cell].norms, I.gradient_norms(seeded, IDS[:20]))
        np.testing.assert_array_equal(again[cell].norms, out[cell].norms)
        assert all(np.array_equal(again[cell].eigenvalues[k], v) for k, v in out[cell].eigenvalues.items())
        assert not np.allclose(other[cell].norms, out[cell].norms), cell


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
    axis = F.state_heatmap(np.zeros((len(many), 1)), many).layout.xaxis  # the public figure, not its tick helper
    vals, texts = list(axis.tickvals), list(axis.ticktext)
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
    curves = {"SimpleRNN": 0.9 ** np.arange(30)[::-1], "LSTM": np.r_[0.0, np.ones(29)]}
    g = F.gradient_decay_figure(curves, L.fit_decays(curves))
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
