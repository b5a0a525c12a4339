"""tests/reference.py itself: its BPTT against finite differences of its forward, for every cell and activation."""

import numpy as np
import pytest

from tests import reference as R


def weights(kind, rng, features=3, units=4):
    gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[kind]
    kernel = rng.normal(size=(features, gates * units)) * 0.6
    recurrent = rng.normal(size=(units, gates * units)) * 0.6
    bias = rng.normal(size=(2, gates * units) if kind == "gru" else gates * units) * 0.3
    return kernel, recurrent, bias


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("kind", R.KINDS)
def test_bptt_matches_finite_differences(kind, activation):
    rng = np.random.default_rng(len(kind) + len(activation))
    steps, batch, units = 5, 2, 4
    kernel, recurrent, bias = weights(kind, rng)
    x = rng.normal(size=(steps, batch, 3))
    h0, c0 = rng.normal(size=(batch, units)) * 0.5, rng.normal(size=(batch, units)) * 0.5
    dy, dh_last = rng.normal(size=(steps, batch, units)), rng.normal(size=(batch, units))
    c0 = c0 if kind == "lstm" else None

    def loss(x=x, kernel=kernel, recurrent=recurrent, bias=bias, h0=h0, c0=c0, perturb=None):
        hs, (h, _) = R.forward(kind, x, kernel, recurrent, bias, h0, c0, activation, perturb)
        return np.sum(hs * dy) + np.sum(h * dh_last)

    got = R.backward(kind, x, kernel, recurrent, bias, dy, dh_last, h0, c0, activation)
    np.testing.assert_allclose(got["hs"], R.forward(kind, x, kernel, recurrent, bias, h0, c0, activation)[0])
    wanted = {name: R.numeric_grad(lambda v, name=name: loss(**{name: v}), value)
              for name, value in dict(x=x, kernel=kernel, recurrent=recurrent, bias=bias, h0=h0, c0=c0).items()
              if value is not None}
    # dL/dh_t: a nudge added to h_t as it is produced moves every later step too
    wanted["dh"] = np.stack([R.numeric_grad(lambda v, t=t: loss(perturb=(t, v)), np.zeros((batch, units)))
                             for t in range(steps)])
    assert set(wanted) <= set(got)
    for name, want in wanted.items():
        assert got[name].shape == want.shape, name
        np.testing.assert_allclose(got[name], want, rtol=1e-6, atol=1e-7, err_msg=name)


def test_the_simple_rnn_step_is_the_textbook_one():
    """One step by hand: h1 = tanh(x W + h0 U + b)."""
    x, w, u, b, h0 = np.array([[1.0, 2.0]]), np.array([[0.5], [-0.25]]), np.array([[2.0]]), np.array([0.1]), np.array([0.3])
    hs, (h, _) = R.forward("simple_rnn", x, w, u, b, h0)
    assert hs.shape == (1, 1) and h[0] == pytest.approx(np.tanh(1.0 * 0.5 + 2.0 * -0.25 + 0.3 * 2.0 + 0.1))


def test_numeric_grad_of_a_known_function():
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(R.numeric_grad(lambda v: np.sum(v**3), x), 3 * x**2, rtol=1e-8)
    np.testing.assert_allclose(R.numeric_grad(lambda v: 2 * v, x), 2 * np.eye(3), atol=1e-8)  # a Jacobian
