"""Text generation: one compiled step at a time, carrying the hidden state between calls."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.nn.language_model import rnn_layers
from core.nn.tf import graph, keras, tf
from core.text.vocabulary import Vocabulary, tokenize


@dataclass(frozen=True)
class StepGuess:
    """One generated token and the top-k candidates it was drawn from."""

    token: str
    candidates: tuple[str, ...]  # most likely first
    probs: tuple[float, ...]  # their probabilities after temperature


@dataclass(frozen=True)
class Generation:
    """Result of `generate`: the prompt as read (unknown tokens left out), the continuation and its per-step guesses."""

    prompt: str
    text: str
    steps: tuple[StepGuess, ...]


class Stepper:
    """A batch-1 view of a trained model: it calls the model's own layers and cells, so it shares
    their weights, and it keeps its own carried state.

    Args:
        model: a model from `core.nn.language_model.build_model` (stateful or not, any batch size).
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self.embedding = model.get_layer("embedding")
        self.rnns = rnn_layers(model)
        self.dense = model.get_layer("logits")
        self.state_sizes = [
            [layer.cell.units] * (2 if isinstance(layer.cell, keras.layers.LSTMCell) else 1) for layer in self.rnns
        ]
        spec = [tf.TensorSpec((1, n), tf.float32) for sizes in self.state_sizes for n in sizes]
        self._step = graph(self._step_impl, input_signature=[tf.TensorSpec((1,), tf.int32), spec])
        self.reset()

    def reset(self) -> None:
        """Forget the carried state: the next token starts from zeros."""
        self.states = [tf.zeros((1, n)) for sizes in self.state_sizes for n in sizes]
        self.last_logits: np.ndarray | None = None  # prediction after the last token fed

    def _step_impl(self, token, flat_states):
        x = self.embedding(token)  # (1, embedding)
        new_states, i = [], 0
        for layer, sizes in zip(self.rnns, self.state_sizes):
            states = list(flat_states[i : i + len(sizes)])
            i += len(sizes)
            x, states = layer.cell(x, states, training=False)  # (1, units)
            new_states.extend(states if isinstance(states, (list, tuple)) else [states])
        return self.dense(x)[0], new_states  # (vocab,)

    def __call__(self, token_id: int) -> np.ndarray:
        """Feed one token; return the logits of the next token as a float64 array."""
        logits, self.states = self._step(tf.constant([token_id], tf.int32), self.states)
        self.last_logits = logits.numpy().astype(np.float64)
        return self.last_logits


def next_token_probabilities(logits: np.ndarray, temperature: float, top_k: int) -> np.ndarray:
    """Next-token probabilities after temperature and top-k filtering."""
    z = logits / max(temperature, 1e-6)
    if 0 < top_k < len(z):
        cut = np.partition(z, -top_k)[-top_k]
        z = np.where(z >= cut, z, -np.inf)
    z = z - z.max()
    p = np.exp(z)
    return p / p.sum()


def generate(
    model: keras.Model | Stepper,
    vocab: Vocabulary,
    prompt: str,
    length: int,
    temperature: float = 1.0,
    top_k: int = 0,
    seed: int | None = None,
    show_k: int = 5,
) -> Generation:
    """Write `length` tokens after `prompt`.

    Args:
        model: a trained model, or a `Stepper` to continue from its carried state.
        vocab: the vocabulary the model was trained with.
        prompt: text fed in before sampling; tokens not in the vocabulary are skipped.
        length: how many tokens to generate.
        temperature: below 1 sharpens the distribution, above 1 flattens it.
        top_k: sample only from the k most likely tokens; 0 keeps them all.
        seed: seed of the sampler; None draws a fresh one.
        show_k: how many candidates to keep per step for display.

    Returns:
        A `Generation` with the text and, per step, the top `show_k` candidates and their probabilities.
    """
    if not isinstance(length, int) or length < 0:
        raise ValueError(f"Received an invalid value for `length`: expected a whole number of at least 0, got {length!r}.")
    if not temperature > 0:
        raise ValueError(f"Received an invalid value for `temperature`: expected a number above 0, got {temperature!r}.")
    stepper = model if isinstance(model, Stepper) else Stepper(model)
    rng = np.random.default_rng(seed)
    index = {t: i for i, t in enumerate(vocab.tokens)}
    tokens = tokenize(prompt, vocab.level)
    prompt_ids = [index[t] for t in tokens if t in index]
    if len(prompt_ids) < len(tokens):
        prompt = vocab.decode(prompt_ids)  # the prompt as the model read it, skipped tokens left out
    if not prompt_ids and stepper.last_logits is None:  # nothing to continue from: start at a line break
        prompt_ids = [index.get("\n", int(np.argmax(vocab.counts)))]
    for i in prompt_ids:
        stepper(i)
    logits = stepper.last_logits
    out, steps = [], []
    for _ in range(length):
        p = next_token_probabilities(logits, temperature, top_k)
        token = int(rng.choice(len(p), p=p))
        top = np.argsort(-p)[:show_k]
        steps.append(StepGuess(vocab.tokens[token], tuple(vocab.tokens[j] for j in top), tuple(float(p[j]) for j in top)))
        out.append(token)
        logits = stepper(token)
    text = vocab.decode(out)
    if vocab.level == "word" and out and prompt:
        text = " " + text if vocab.decode([out[0]])[:1] not in ".,;:!?)\n" else text
    return Generation(prompt, text, tuple(steps))
