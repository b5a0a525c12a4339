"""Before training: how much memory a model needs and how long an epoch takes on this machine."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from core import settings
from core.config import ModelConfig
from core.cells import cell_spec
from core.nn.language_model import count_params

GIB = 1024**3


def memory_limit_bytes() -> int:
    """Largest estimated training memory one session may use ($RNN_PLAYGROUND_MAX_MODEL_GB, default 4)."""
    return int(settings.current().max_model_gb * GIB)


# What a training step costs whatever its size (the optimizer's update, the call into the compiled step, the
# snapshot): batch 1 and sequence 1 trained 749 tokens/s in a worker here, 1.3 ms a step, where the matmul speed alone
# said 11 s for an epoch of 170,584 steps instead of about 230 s.
STEP_S = 1.2e-3


@functools.lru_cache(maxsize=1)
def machine_gflops() -> float:
    """float32 matmul speed of this machine in GFLOP/s (TensorFlow, 1024×1024, best of five; measured once)."""
    from core.nn.tf import tf

    a = tf.random.stateless_normal((1024, 1024), seed=(0, 0))
    tf.matmul(a, a).numpy()
    best = min(_timed(lambda: tf.matmul(a, a).numpy()) for _ in range(5))
    return 2 * 1024**3 / best / 1e9


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


@dataclass(frozen=True)
class Estimate:
    """Memory and time needed to train `config` for one epoch."""

    params: int
    weights_bytes: int  # weights, gradients, Adam's two moments and the validation copy
    activation_bytes: int  # what one batch keeps for the backward pass
    flops_per_token: float  # forward and backward
    seconds_per_epoch: float

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.activation_bytes


def flops_per_token(config: ModelConfig) -> float:
    """Multiply-adds × 2, forward and backward (backward ≈ 2× forward), for one token."""
    E, U, V, g = config.embedding_dim, config.rnn_units, config.vocab_size, cell_spec(config.cell).gate_count
    recurrent = sum(g * U * ((E if i == 0 else U) + U) for i in range(config.num_layers))
    return 3 * 2 * (recurrent + U * V)


def estimate(config: ModelConfig, tokens_per_epoch: int, gflops: float | None = None) -> Estimate:
    """Estimate memory and time per epoch.

    Args:
        config: the model settings.
        tokens_per_epoch: tokens trained on in one epoch.
        gflops: machine speed; measured with `machine_gflops()` when None.

    Returns:
        An `Estimate`. Time assumes training reaches 30-60% of matmul speed (more for wide layers,
        less off the fused SimpleRNN path, as measured with bench/train_speed.py) plus a fixed cost
        per time step and per step (STEP_S); it is a guide, not a promise.
    """
    params = count_params(config)
    B, S, E, U, V = config.batch_size, config.seq_len, config.embedding_dim, config.rnn_units, config.vocab_size
    per_step = cell_spec(config.cell).kept_per_step  # (batch, units) tensors kept per time step
    activations = 4 * B * S * (3 * E + config.num_layers * U * per_step + 3 * V)
    gflops = gflops or machine_gflops()
    efficiency = (0.3 + 0.3 * min(U, 1024) / 1024) * (1.0 if _fused(config) else 0.7)
    steps = tokens_per_epoch / max(B * S, 1)
    seconds = (tokens_per_epoch * flops_per_token(config) / (gflops * 1e9 * efficiency)
               + steps * (S * 60e-6 * config.num_layers + STEP_S))
    return Estimate(params, 5 * 4 * params, activations, flops_per_token(config), seconds)


def _fused(config: ModelConfig) -> bool:
    from core.nn.train_step import fast_path_available

    return fast_path_available(config)


def check_fits(config: ModelConfig, limit: int | None = None) -> None:
    """Raise ValueError naming the limit and the setting to lower when training would need too much memory."""
    limit = memory_limit_bytes() if limit is None else limit
    est = estimate(config, tokens_per_epoch=config.batch_size * config.seq_len, gflops=100.0)
    if est.total_bytes <= limit:
        return
    if est.activation_bytes > est.weights_bytes:
        fix = "lower the batch size or the sequence length (they set what one batch keeps for the backward pass)"
    else:
        fix = "lower the RNN units, the embedding size or the vocabulary cap (they set the number of weights)"
    raise ValueError(
        f"This model would need about {est.total_bytes / GIB:.1f} GiB to train, above this server's limit of "
        f"{limit / GIB:.1f} GiB per session. To fix it, {fix}."
    )
