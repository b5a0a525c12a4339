"""Generation speed: the whole continuation in one graph call (`core.nn.generate.generate`) against one graph call
per token (the loop it replaced: `Stepper.__call__` per token, numpy's `Generator.choice` in between).

For each `--units` size it builds an untrained character model (weights do not change the speed), warms both
ways up (their graphs are traced once per stepper, as at a training's first epoch end or a first Generate click),
then alternates them `--repeats` times, each writing `--length` characters from the same seed, checks that both
wrote the same text and prints the medians (process CPU) and their ratio. Prints numbers; never passes or fails.

    python bench/generate_speed.py
    python bench/generate_speed.py --units 16 256 1024 --length 200 --json   # last line: a JSON object
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from core.config import ModelConfig  # noqa: E402
from core.nn.generate import Stepper, generate, next_token_probabilities  # noqa: E402
from core.nn.language_model import build_model  # noqa: E402
from core.text.vocabulary import Vocabulary  # noqa: E402

TEXT = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n" * 4


def per_token(stepper: Stepper, vocab: Vocabulary, prompt: str, length: int, temperature: float, seed: int) -> str:
    """The loop as it was: a graph call per token, the draw in numpy."""
    rng = np.random.default_rng(seed)
    stepper.reset()
    for i in vocab.encode(prompt):
        logits = stepper(int(i))
    out = []
    for _ in range(length):
        p = next_token_probabilities(logits, temperature, 0)
        out.append(int(rng.choice(len(p), p=p)))
        logits = stepper(out[-1])
    return vocab.decode(out)


def one_graph(stepper: Stepper, vocab: Vocabulary, prompt: str, length: int, temperature: float, seed: int) -> str:
    stepper.reset()
    return generate(stepper, vocab, prompt, length, temperature, seed=seed).text


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--units", type=int, nargs="+", default=[16, 256, 1024])
    p.add_argument("--cell", default="simple_rnn", choices=["simple_rnn", "lstm", "gru"])
    p.add_argument("--embedding", type=int, default=256)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--length", type=int, default=200, help="characters written per run (200: an epoch end's sample)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs of each way per size (medians reported)")
    p.add_argument("--json", action="store_true", help="print a JSON object as the last line")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    vocab = Vocabulary.build(TEXT)
    ways = {"per token": per_token, "one graph": one_graph}
    result = {"cell": args.cell, "embedding": args.embedding, "layers": args.layers, "length": args.length,
              "load_average": round(os.getloadavg()[0], 2), "cpu_s": {}}
    print(f"{args.cell} E={args.embedding} layers={args.layers} V={len(vocab)}: {args.repeats} alternating runs of "
          f"{args.length} characters each way (process CPU, medians)")
    for units in args.units:
        config = ModelConfig(vocab_size=len(vocab), embedding_dim=args.embedding, rnn_units=units, cell=args.cell,
                             num_layers=args.layers, batch_size=1)
        model = build_model(config, stateful=False)
        steppers = {name: Stepper(model) for name in ways}
        texts = {name: way(steppers[name], vocab, "To be", 5, 0.8, 0) for name, way in ways.items()}  # trace
        times: dict[str, list[float]] = {name: [] for name in ways}
        for i in range(args.repeats):
            for name, way in ways.items():  # alternating, so a machine that slows down slows both
                t = time.process_time()
                texts[name] = way(steppers[name], vocab, "To be", args.length, 0.8, i)
                times[name].append(time.process_time() - t)
            assert texts["per token"] == texts["one graph"], "the two ways wrote different text"
        old, new = (statistics.median(times[name]) for name in ways)
        result["cpu_s"][units] = {"per_token": round(old, 4), "one_graph": round(new, 4)}
        print(f"units {units:>5}: per token {old:6.3f} CPU-s   one graph {new:6.3f} CPU-s   one graph/per token "
              f"{new / old:.2f}x")
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
