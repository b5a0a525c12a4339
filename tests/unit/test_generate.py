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
