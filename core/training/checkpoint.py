"""Where a training stands, as plain data: what a worker sends back and what the next job continues from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Checkpoint:
    """Where a training stands, as plain data: enough to continue it in another process.

    `optimizer` is None at epoch ends (the optimizer's moments are only sent when a training stops).
    """

    weights: tuple  # model.get_weights(): NumPy arrays
    position: tuple[int, int]  # (epoch, batch) where the next step starts
    step: int  # batches trained so far
    elapsed_s: float  # training seconds so far, pauses excluded
    optimizer: tuple | None = None  # the optimizer's variables (moments, iteration count)
    version: int = 0  # grows with each checkpoint of one training
    carried: tuple = ()  # the hidden states a stateful model carries into its next batch (mid-epoch only)


def carried_states(model) -> list:
    """The state variables of the model's stateful recurrent layers, bottom first."""
    from core.nn.language_model import rnn_layers

    return [v for layer in rnn_layers(model) if getattr(layer, "stateful", False) for v in layer.states]


def capture(model, optimizer, position: tuple[int, int], step: int, elapsed_s: float, version: int,
            final: bool) -> Checkpoint:
    """A checkpoint of `model` now (call it between two steps); the optimizer's moments only when `final`."""
    weights = model.get_weights()
    moments = tuple(v.numpy() for v in optimizer.variables) if final else None
    carried = tuple(v.numpy() for v in carried_states(model)) if position[1] else ()  # mid-epoch only
    return Checkpoint(tuple(weights), position, step, elapsed_s, moments, version, carried)


def restore(model, optimizer, checkpoint: Checkpoint) -> None:
    """Put `checkpoint`'s weights, optimizer moments and carried states back into `model` and `optimizer`."""
    model.set_weights(list(checkpoint.weights))
    for var, value in zip(optimizer.variables, checkpoint.optimizer or ()):
        var.assign(value)
    for var, value in zip(carried_states(model), checkpoint.carried):  # mid-epoch: go on with the same memory
        var.assign(value)
