"""Training speed of one model four ways: the trainer's step with the fast recurrence, the same step
with stock Keras, stock `model.fit`, and PyTorch `nn.RNN` (when `import torch` works).

Every path trains the same shape on the same random batches with Adam; runs alternate between the
paths and the median of `--repeats` runs is reported, with the 2048×2048 float32 matmul speed of
this machine measured in the same run. Prints numbers; never passes or fails.

    python bench/train_speed.py --units 1024
    python bench/train_speed.py --units 256 --json      # last line: a JSON object

torch is not a project dependency; to compare with it, run this script with an interpreter that has
both the project's requirements and torch installed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import ModelConfig, TrainConfig  # noqa: E402
from core.model import build_model  # noqa: E402
from core.step import make_train_step  # noqa: E402
from core.tf import keras, tf  # noqa: E402

PAUSE_S = 0.3  # idle time between runs so one library's spinning threads do not slow the next


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cell", default="simple_rnn", choices=["simple_rnn", "lstm", "gru"])
    p.add_argument("--activation", default="tanh", choices=["tanh", "relu"])
    p.add_argument("--vocab", type=int, default=65)
    p.add_argument("--embedding", type=int, default=256)
    p.add_argument("--units", type=int, default=1024)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seq-len", type=int, default=100)
    p.add_argument("--steps", type=int, default=10, help="train steps per timed run")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per path (median reported)")
    p.add_argument("--no-fit", action="store_true", help="skip model.fit")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even when it imports")
    p.add_argument("--json", action="store_true", help="print a JSON object as the last line")
    return p.parse_args(argv)


def matmul_gflops(n: int = 2048, repeats: int = 15) -> float:
    """Median float32 n×n matmul speed of TensorFlow on this machine, in GFLOP/s."""
    a, b = tf.random.normal((n, n)), tf.random.normal((n, n))
    mm = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    mm(a, b).numpy()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        mm(a, b).numpy()
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


def flops_per_token(args: argparse.Namespace) -> float:
    """Forward + backward FLOPs of one token: input projection, recurrence and output layer, each ×3
    (forward, gradient of the weights, gradient of the inputs); the embedding lookup is negligible."""
    gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[args.cell]
    e, u, v = args.embedding, args.units, args.vocab
    rnn = sum(gates * ((e if i == 0 else u) * u + u * u) for i in range(args.layers))
    return 6.0 * (rnn + u * v)


def keras_runner(args, config: ModelConfig, data, fast: bool):
    """A function running `--steps` steps of the project's trainer step."""
    model = build_model(config)
    step, _ = make_train_step(model, config, TrainConfig(learning_rate=0.001, optimizer="adam"), fast=fast)
    xs = [tf.constant(x) for x, _ in data]
    ys = [tf.constant(y) for _, y in data]

    def run() -> float:
        out = None
        for x, y in zip(xs, ys):
            out = step(x, y)
        return float(out["loss"])

    return run


def fit_runner(args, config: ModelConfig, data):
    """A function running `--steps` steps of stock `model.fit`."""
    model = build_model(config)
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.concatenate([x for x, _ in data])
    y = np.concatenate([y for _, y in data])

    def run() -> float:
        history = model.fit(x, y, batch_size=args.batch, epochs=1, shuffle=False, verbose=0)
        return float(history.history["loss"][-1])

    return run


def torch_runner(args, data):
    """A function running `--steps` steps of the same model in PyTorch, or None when torch is absent."""
    try:
        import torch
    except ImportError:
        return None
    if args.cell != "simple_rnn":
        return None
    torch.manual_seed(0)
    torch.set_num_threads(tf.config.threading.get_intra_op_parallelism_threads() or len(__import__("os").sched_getaffinity(0)))
    emb = torch.nn.Embedding(args.vocab, args.embedding)
    rnn = torch.nn.RNN(args.embedding, args.units, num_layers=args.layers, nonlinearity=args.activation, batch_first=True)
    out = torch.nn.Linear(args.units, args.vocab)
    params = [*emb.parameters(), *rnn.parameters(), *out.parameters()]
    opt = torch.optim.Adam(params, lr=0.001)
    xs = [torch.from_numpy(x.astype(np.int64)) for x, _ in data]
    ys = [torch.from_numpy(y.astype(np.int64)) for _, y in data]
    state = {"h": torch.zeros(args.layers, args.batch, args.units)}

    def run() -> float:
        loss = None
        for x, y in zip(xs, ys):
            opt.zero_grad(set_to_none=True)
            hs, h = rnn(emb(x), state["h"])  # (batch, time, units)
            state["h"] = h.detach()  # stateful, like the Keras model
            loss = torch.nn.functional.cross_entropy(out(hs).reshape(-1, args.vocab), y.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)  # the trainer clips too
            opt.step()
        return float(loss)

    return run


def main(argv=None) -> dict:
    args = parse_args(argv)
    config = ModelConfig(
        vocab_size=args.vocab, embedding_dim=args.embedding, rnn_units=args.units, batch_size=args.batch,
        seq_len=args.seq_len, cell=args.cell, num_layers=args.layers, activation=args.activation,
    )
    rng = np.random.default_rng(0)
    data = [
        (rng.integers(0, args.vocab, (args.batch, args.seq_len), dtype=np.int32),
         rng.integers(0, args.vocab, (args.batch, args.seq_len), dtype=np.int32))
        for _ in range(args.steps)
    ]
    runners = {"trainer": keras_runner(args, config, data, fast=None), "stock": keras_runner(args, config, data, fast=False)}
    if not args.no_fit:
        runners["fit"] = fit_runner(args, config, data)
    torch_run = None if args.no_torch else torch_runner(args, data)
    if torch_run is not None:
        runners["torch"] = torch_run
    for run in runners.values():  # compile / warm up
        run()

    tokens = args.steps * args.batch * args.seq_len
    rates: dict[str, list[float]] = {name: [] for name in runners}
    peaks = []
    for _ in range(args.repeats):
        peaks.append(matmul_gflops(repeats=5))
        for name, run in runners.items():
            time.sleep(PAUSE_S)
            t = time.perf_counter()
            run()
            rates[name].append(tokens / (time.perf_counter() - t))

    peak = statistics.median(peaks)
    flops = flops_per_token(args)
    tok_s = {name: statistics.median(r) for name, r in rates.items()}
    result = {
        "cell": args.cell, "units": args.units, "embedding": args.embedding, "vocab": args.vocab, "layers": args.layers,
        "batch": args.batch, "seq_len": args.seq_len, "steps": args.steps, "repeats": args.repeats,
        "matmul_gflops": round(peak, 1), "flops_per_token": flops,
    }
    print(f"{args.cell} E={args.embedding} U={args.units} V={args.vocab} layers={args.layers} "
          f"batch={args.batch} seq_len={args.seq_len}: {args.repeats} alternating runs of {args.steps} steps")
    print(f"matmul 2048x2048 float32: {peak:.1f} GFLOP/s; model: {flops / 1e6:.2f} MFLOP per token (fwd+bwd)")
    print(f"{'path':<10}{'tok/s':>10}{'GFLOP/s':>10}{'of peak':>9}{'vs torch':>10}")
    for name in ("trainer", "stock", "fit", "torch"):
        rate = tok_s.get(name)
        result[f"{name}_tok_s"] = None if rate is None else round(rate, 1)
        result[f"{name}_gflops"] = None if rate is None else round(rate * flops / 1e9, 1)
        if rate is None:
            continue
        vs = f"{rate / tok_s['torch']:.2f}x" if "torch" in tok_s else "-"
        print(f"{name:<10}{rate:>10,.0f}{rate * flops / 1e9:>10.1f}{rate * flops / 1e9 / peak:>9.0%}{vs:>10}")
    result["trainer_peak_fraction"] = round(tok_s["trainer"] * flops / 1e9 / peak, 3)
    result["trainer_vs_torch"] = round(tok_s["trainer"] / tok_s["torch"], 3) if "torch" in tok_s else None
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
