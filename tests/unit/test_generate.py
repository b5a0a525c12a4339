"""core.nn.generate: the batch-1 stepper equals the model, sampling follows temperature and top-k."""

import dataclasses

import numpy as np
import pytest

from core.config import ModelConfig
from core.nn.generate import Stepper, next_token_probabilities, generate
from core.nn.language_model import build_model
from core.text.vocabulary import Vocabulary

VOCAB = Vocabulary.build("abcdefg\n")
CONFIG = ModelConfig(vocab_size=len(VOCAB), embedding_dim=3, rnn_units=5, batch_size=4, seq_len=5)


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_stepper_matches_the_model_step_by_step(cell):
    config = dataclasses.replace(CONFIG, cell=cell, num_layers=2)
    model = build_model(config)  # stateful, batch 4: the stepper must not need that batch size
    reference = build_model(config, stateful=False)
    reference.set_weights(model.get_weights())
    ids = np.array([0, 3, 1, 4, 4, 2], np.int32)
    expected = reference(ids[None]).numpy()[0]  # (time, vocab)
    stepper = Stepper(model)
    got = np.stack([stepper(int(i)) for i in ids])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_generate_length_candidates_and_determinism():
    model = build_model(CONFIG)
    a = generate(model, VOCAB, "abc", 30, temperature=1.0, top_k=3, seed=1)
    b = generate(model, VOCAB, "abc", 30, temperature=1.0, top_k=3, seed=1)
    assert a == b and len(a.text) == 30 and len(a.steps) == 30
    for s in a.steps:
        assert s.token in s.candidates[:3] and len(s.candidates) == 5
        assert sum(s.probs[:3]) == pytest.approx(1.0) and s.probs[3] == 0.0
        assert list(s.probs) == sorted(s.probs, reverse=True)


def test_distribution_temperature_and_top_k():
    logits = np.log(np.array([0.5, 0.3, 0.2]))
    np.testing.assert_allclose(next_token_probabilities(logits, 1.0, 0), [0.5, 0.3, 0.2])
    cold = next_token_probabilities(logits, 0.1, 0)
    assert cold[0] > 0.99
    np.testing.assert_allclose(next_token_probabilities(logits, 1.0, 2), [0.625, 0.375, 0.0])


def test_state_carries_between_calls_until_reset():
    model = build_model(CONFIG)
    stepper = Stepper(model)
    first = stepper(1).copy()
    second = stepper(1)
    assert not np.allclose(first, second)
    stepper.reset()
    np.testing.assert_allclose(stepper(1), first, rtol=1e-6)
    with pytest.raises(ValueError, match="temperature"):
        generate(model, VOCAB, "a", 5, temperature=0)


def test_the_prompt_shown_is_the_prompt_read():
    vocab = Vocabulary.build("abcabc ab", "char")
    model = build_model(ModelConfig(vocab_size=len(vocab), embedding_dim=3, rnn_units=4, stateful=False))
    out = generate(Stepper(model), vocab, "a😀b", 5, 1.0)
    assert out.prompt == "ab" and len(out.text) == 5
    assert generate(Stepper(model), vocab, "abc", 5, 1.0).prompt == "abc"


def _one_step_at_a_time(stepper, prompt_ids, length, temperature, top_k, seed):
    """The sampler as numpy writes it: feed each token, draw the next with `Generator.choice`, feed it back."""
    rng = np.random.default_rng(seed)
    logits = stepper.last_logits
    for i in prompt_ids:
        logits = stepper(i)
    out, tops = [], []
    for _ in range(length):
        p = next_token_probabilities(logits, temperature, top_k)
        out.append(int(rng.choice(len(p), p=p)))
        tops.append(np.argsort(-p, kind="stable")[:5])  # ties (the zeros top-k leaves) lowest id first, as top_k
        logits = stepper(out[-1])
    return out, tops, logits


@pytest.mark.parametrize("cell, temperature, top_k", [("simple_rnn", 0.8, 0), ("lstm", 1.5, 3), ("gru", 0.3, 0),
                                                      ("simple_rnn", 1.0, 1)])
def test_one_graph_call_draws_what_numpy_draws_one_step_at_a_time(cell, temperature, top_k):
    """`generate` feeds the prompt and draws the whole continuation in one graph call; given the same seed it
    writes the tokens, candidates and final state of numpy's per-step `choice`, and continues from that state."""
    config = dataclasses.replace(CONFIG, cell=cell, num_layers=2)
    model = build_model(config)
    graph_stepper, step_stepper = Stepper(model), Stepper(model)
    for seed in range(3):
        graph_stepper.reset(), step_stepper.reset()
        got = generate(graph_stepper, VOCAB, "abc", 60, temperature, top_k, seed=seed)
        want, tops, logits = _one_step_at_a_time(step_stepper, list(VOCAB.encode("abc")), 60, temperature, top_k, seed)
        assert got.text == VOCAB.decode(want)
        assert [s.candidates for s in got.steps] == [tuple(VOCAB.tokens[j] for j in top) for top in tops]
        assert all(list(s.probs) == sorted(s.probs, reverse=True) for s in got.steps)
        np.testing.assert_allclose(graph_stepper.last_logits, logits, rtol=1e-5, atol=1e-6)
        # no prompt: it continues from the carried state, as the Generate page's next click does
        more = generate(graph_stepper, VOCAB, "", 20, temperature, top_k, seed=seed + 10)
        assert more.text == VOCAB.decode(_one_step_at_a_time(step_stepper, [], 20, temperature, top_k, seed + 10)[0])


def test_a_nan_prediction_raises_as_numpy_does_and_length_zero_only_reads_the_prompt():
    model = build_model(CONFIG)
    stepper = Stepper(model)
    assert generate(stepper, VOCAB, "ab", 0, seed=1).text == ""
    np.testing.assert_allclose(stepper.last_logits, _fed(model, VOCAB.encode("ab")), rtol=1e-5, atol=1e-6)
    bias = model.get_layer("logits").bias
    for bad in (np.nan, np.inf):  # one bad logit is enough: numpy's probabilities were all NaN then
        bias.assign(np.where(np.arange(len(VOCAB)) == 3, bad, 0.0).astype(np.float32))
        with pytest.raises(ValueError, match="NaN"):
            generate(Stepper(model), VOCAB, "a", 5, seed=1)
    bias.assign(np.where(np.arange(len(VOCAB)) == 3, -np.inf, 0.0).astype(np.float32))  # -inf is a token never drawn
    assert VOCAB.tokens[3] not in generate(Stepper(model), VOCAB, "a", 40, seed=1).text


def _fed(model, ids):
    stepper = Stepper(model)
    for i in ids:
        logits = stepper(i)
    return logits
