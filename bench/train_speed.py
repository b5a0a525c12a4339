"""Training speed of one model four ways: the trainer's step with the fast recurrence, the same step
with stock Keras, stock `model.fit`, and PyTorch `nn.RNN` (when `import torch` works).

Every path trains the same shape on the same random batches with Adam; runs alternate between the
paths and the median and the best of `--repeats` runs are reported, with the 2048×2048 float32
matmul speed of this machine measured in the same run, the GFLOP/s each path achieves (forward and
backward FLOPs of the model, see `flops_per_token`), its share of that matmul speed and its ratio to
PyTorch; when the trainer folds the embedding into the first kernel it executes fewer FLOPs than
the model's count, and a last line gives its share by the FLOPs it really runs.
Other processes on the machine slow every path, PyTorch's spinning OpenMP threads most of all: the
load average is printed, and the best-run column is the steadier one on a busy machine.
Prints numbers; never passes or fails.

    python bench/train_speed.py --units 1024
    python bench/train_speed.py --units 256 --json      # last line: a JSON object

torch is not a project dependency; to compare with it, run this script with an interpreter that has
both the project's requirements and torch installed. PyTorch runs in a child process of its own
(TensorFlow and torch in one process can crash), driven run by run over a pipe.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def batches(args: argparse.Namespace) -> list[tuple[np.ndarray, np.ndarray]]:
    """`--steps` random (x, y) int32 batches, the same in every process."""
    rng = np.random.default_rng(0)
    shape = (args.batch, args.seq_len)
    return [(rng.integers(0, args.vocab, shape, dtype=np.int32), rng.integers(0, args.vocab, shape, dtype=np.int32))
            for _ in range(args.steps)]


def matmul_gflops(n: int = 2048, repeats: int = 15) -> float:
    """Median float32 n×n matmul speed of TensorFlow on this machine, in GFLOP/s."""
    from core.nn.tf import tf

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


def executed_flops_per_token(args: argparse.Namespace) -> float:
    """FLOPs per token the trainer's fast path really executes: `flops_per_token`, less what folding
    the embedding into the first kernel skips (X·W, Xᵀ·dP and dP·Wᵀ over every token), plus what it
    adds (the one-hot dW per token, and E·W with its two gradients once per batch)."""
    from core.nn import fused_model as fastmodel
    from core.nn import fused_rnn as fastrnn
    from core.config import ModelConfig

    config = ModelConfig(vocab_size=args.vocab, embedding_dim=args.embedding, rnn_units=args.units, batch_size=args.batch,
                         seq_len=args.seq_len, cell=args.cell, num_layers=args.layers, activation=args.activation)
    flops = flops_per_token(args)
    if not (fastrnn.supports(config) and fastmodel.looks_up_input_projection(config)):
        return flops
    e, u, v = args.embedding, args.units, args.vocab
    return flops - 6.0 * e * u + 2.0 * v * u + 6.0 * v * e * u / (args.batch * args.seq_len)


def keras_runner(args, config: ModelConfig, data, fast: bool):
    """A function timing `--steps` steps of the project's trainer step, in seconds."""
    from core.config import TrainConfig
    from core.nn.language_model import build_model
    from core.nn.train_step import make_train_step
    from core.nn.tf import tf

    model = build_model(config)
    step, _ = make_train_step(model, config, TrainConfig(learning_rate=0.001, optimizer="adam"), fast=fast)
    xs = [tf.constant(x) for x, _ in data]
    ys = [tf.constant(y) for _, y in data]

    def run() -> float:
        t = time.perf_counter()
        for x, y in zip(xs, ys):
            out = step(x, y)
        float(out["loss"])  # wait for the last step
        return time.perf_counter() - t

    return run


def fit_runner(args, config: ModelConfig, data):
    """A function timing `--steps` steps of stock `model.fit` (one epoch over the batches), in seconds."""
    from core.nn.language_model import build_model
    from core.nn.tf import keras

    model = build_model(config)
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.concatenate([x for x, _ in data])
    y = np.concatenate([y for _, y in data])

    def run() -> float:
        t = time.perf_counter()
        model.fit(x, y, batch_size=args.batch, epochs=1, shuffle=False, verbose=0)
        return time.perf_counter() - t

    return run


def torch_worker(args: argparse.Namespace) -> None:
    """The child process: build the model in PyTorch, then answer each line on stdin with the seconds
    `--steps` train steps took."""
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    emb = torch.nn.Embedding(args.vocab, args.embedding)
    rnn = torch.nn.RNN(args.embedding, args.units, num_layers=args.layers, nonlinearity=args.activation, batch_first=True)
    out = torch.nn.Linear(args.units, args.vocab)
    params = [*emb.parameters(), *rnn.parameters(), *out.parameters()]
    opt = torch.optim.Adam(params, lr=0.001)
    data = [(torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.int64))) for x, y in batches(args)]
    h = torch.zeros(args.layers, args.batch, args.units)
    print("ready", flush=True)
    for _ in sys.stdin:
        t = time.perf_counter()
        for x, y in data:
            opt.zero_grad(set_to_none=True)
            hs, h = rnn(emb(x), h)  # (batch, time, units)
            h = h.detach()  # stateful, like the Keras model
            loss = torch.nn.functional.cross_entropy(out(hs).reshape(-1, args.vocab), y.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)  # the trainer clips too
            opt.step()
        print(time.perf_counter() - t, flush=True)


def torch_runner(args: argparse.Namespace):
    """A function timing `--steps` PyTorch steps in a child process, or None when torch is absent."""
    if args.cell != "simple_rnn" or subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode:
        return None
    argv = [sys.executable, __file__, "--torch-worker", *sys.argv[1:]]
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    if child.stdout.readline().strip() != "ready":
        raise RuntimeError("The PyTorch worker did not start; run it alone with --torch-worker to see why.")

    def run() -> float:
        child.stdin.write("run\n")
        return float(child.stdout.readline())

    run.close = lambda: (child.stdin.close(), child.wait())
    return run


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.torch_worker:
        return torch_worker(args)
    from core.config import ModelConfig

    config = ModelConfig(
        vocab_size=args.vocab, embedding_dim=args.embedding, rnn_units=args.units, batch_size=args.batch,
        seq_len=args.seq_len, cell=args.cell, num_layers=args.layers, activation=args.activation,
    )
    data = batches(args)
    runners = {"trainer": keras_runner(args, config, data, fast=None), "stock": keras_runner(args, config, data, fast=False)}
    if not args.no_fit:
        runners["fit"] = fit_runner(args, config, data)
    torch_run = None if args.no_torch else torch_runner(args)
    if torch_run is not None:
        runners["torch"] = torch_run
    for run in runners.values():  # compile / warm up
        run()

    tokens = args.steps * args.batch * args.seq_len
    rates: dict[str, list[float]] = {name: [] for name in runners}
    peaks = []
    load = os.getloadavg()[0]
    for _ in range(args.repeats):
        time.sleep(PAUSE_S)  # PyTorch's threads spin on after its run: measured right after, the peak reads low
        peaks.append(matmul_gflops(repeats=5))
        for name, run in runners.items():
            time.sleep(PAUSE_S)
            rates[name].append(tokens / run())
    if torch_run is not None:
        torch_run.close()
    return report(args, rates, peaks, (load, os.getloadavg()[0]))


def report(args: argparse.Namespace, rates: dict[str, list[float]], peaks: list[float], load: tuple[float, float]) -> dict:
    """Print the table (median and best run of each path) and return the numbers as a dict."""
    flops = flops_per_token(args)
    result = {
        "cell": args.cell, "units": args.units, "embedding": args.embedding, "vocab": args.vocab, "layers": args.layers,
        "batch": args.batch, "seq_len": args.seq_len, "steps": args.steps, "repeats": args.repeats,
        "flops_per_token": flops, "load_average": [round(x, 2) for x in load],
        "matmul_gflops": round(statistics.median(peaks), 1), "matmul_best_gflops": round(max(peaks), 1),
    }
    print(f"{args.cell} E={args.embedding} U={args.units} V={args.vocab} layers={args.layers} batch={args.batch} "
          f"seq_len={args.seq_len}: {args.repeats} alternating runs of {args.steps} steps, {flops / 1e6:.2f} MFLOP/token")
    print(f"matmul 2048x2048 float32: median {result['matmul_gflops']} GFLOP/s, best {result['matmul_best_gflops']}; "
          f"load average {load[0]:.2f} -> {load[1]:.2f}" + ("  (other processes were running: numbers are noisy)" if max(load) > 1.5 else ""))
    print(f"{'':<10}{'median':>31}{'best run':>33}")
    print(f"{'path':<10}" + f"{'tok/s':>10}{'GFLOP/s':>9}{'peak':>6}{'torch':>7}" * 2)
    for name in ("trainer", "stock", "fit", "torch"):
        result[f"{name}_tok_s"] = result[f"{name}_best_tok_s"] = result[f"{name}_gflops"] = None
        if name not in rates:
            continue
        line = f"{name:<10}"
        for kind, pick, peak in (("", statistics.median, result["matmul_gflops"]), ("_best", max, result["matmul_best_gflops"])):
            rate = pick(rates[name])
            result[f"{name}{kind}_tok_s"] = round(rate, 1)
            vs = f"{rate / pick(rates['torch']):.2f}x" if "torch" in rates else "-"
            line += f"{rate:>10,.0f}{rate * flops / 1e9:>9.1f}{rate * flops / 1e9 / peak:>6.0%}{vs:>7}"
        result[f"{name}_gflops"] = round(result[f"{name}_tok_s"] * flops / 1e9, 1)
        print(line)
    result["trainer_peak_fraction"] = round(result["trainer_gflops"] / result["matmul_gflops"], 3)
    executed = executed_flops_per_token(args)
    result["trainer_executed_flops_per_token"] = executed
    result["trainer_executed_gflops"] = round(result["trainer_tok_s"] * executed / 1e9, 1)
    result["trainer_executed_peak_fraction"] = round(result["trainer_executed_gflops"] / result["matmul_gflops"], 3)
    if executed != flops:
        print(f"The columns count each path's model FLOPs. The trainer folds the embedding into the first kernel "
              f"(vocab <= embedding) and executes {executed / 1e6:.2f} MFLOP/token: {result['trainer_executed_gflops']} "
              f"GFLOP/s, {result['trainer_executed_peak_fraction']:.0%} of the matmul speed.")
    result["trainer_vs_torch"] = round(result["trainer_tok_s"] / result["torch_tok_s"], 3) if "torch" in rates else None
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
