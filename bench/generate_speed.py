"""Generation speed: characters per second that `core.nn.generate.generate` writes, one token at a time.

Builds an untrained character model (weights do not change the speed) for each `--units` size,
writes `--length` characters after a short prompt `--repeats` times and prints the median rate.
Prints numbers; never passes or fails.

    python bench/generate_speed.py
    python bench/generate_speed.py --units 256 1024 --length 500 --json   # last line: a JSON object
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

from core.config import ModelConfig  # noqa: E402
from core.nn.generate import generate  # noqa: E402
from core.nn.language_model import build_model  # noqa: E402
from core.text.vocabulary import Vocabulary  # noqa: E402

TEXT = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n" * 4


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--units", type=int, nargs="+", default=[256, 1024])
    p.add_argument("--cell", default="simple_rnn", choices=["simple_rnn", "lstm", "gru"])
    p.add_argument("--embedding", type=int, default=256)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--length", type=int, default=300, help="characters generated per run")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per size (median reported)")
    p.add_argument("--json", action="store_true", help="print a JSON object as the last line")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    vocab = Vocabulary.build(TEXT)
    result = {"cell": args.cell, "embedding": args.embedding, "layers": args.layers, "length": args.length,
              "load_average": round(os.getloadavg()[0], 2), "chars_per_s": {}}
    print(f"{args.cell} E={args.embedding} layers={args.layers} V={len(vocab)}: {args.repeats} runs of {args.length} characters")
    for units in args.units:
        config = ModelConfig(vocab_size=len(vocab), embedding_dim=args.embedding, rnn_units=units, cell=args.cell,
                             num_layers=args.layers, batch_size=1)
        model = build_model(config, stateful=False)
        generate(model, vocab, "To be", 5, seed=0)  # trace the step function
        rates = []
        for i in range(args.repeats):
            t = time.perf_counter()
            generate(model, vocab, "To be", args.length, temperature=0.8, seed=i)
            rates.append(args.length / (time.perf_counter() - t))
        result["chars_per_s"][units] = round(statistics.median(rates), 1)
        print(f"units {units:>5}: {statistics.median(rates):>8,.0f} chars/s (best {max(rates):,.0f})")
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
