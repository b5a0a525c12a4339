"""What importing TensorFlow and Keras costs a fresh process (every server, training worker, notebook kernel and
exported script pays it), and the modules that take longest themselves.

Runs `python -X importtime -c "import core.nn.tf"` in fresh processes and prints the median total and, from the
last run, the slowest modules by their own time. With `--against DIR`, it alternates runs as installed with runs
that put DIR first on the path (a folder made with `pip install --target DIR --no-deps PACKAGE==VERSION`), and
prints both medians and their ratio.

    .venv/bin/python bench/import_time.py [--rounds 5] [--against DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def run(path_first: str | None) -> tuple[float, list[tuple[float, str]]]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if path_first:
        env["PYTHONPATH"] = path_first + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import core.nn.tf"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stderr
    rows = [(int(m.group(1)) / 1e6, int(m.group(2)) / 1e6, m.group(4)) for m in map(LINE.match, out.splitlines()) if m]
    total = next(cumulative for _, cumulative, name in rows if name == "core.nn.tf")
    return total, sorted(((own, name) for own, _, name in rows), reverse=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--against", help="a folder put first on the path in every other run")
    args = p.parse_args()
    ways = {"installed": None, **({f"with {args.against} first": args.against} if args.against else {})}
    totals: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, path in ways.items():  # alternating, so a machine that slows down slows both
            total, slowest = run(path)
            totals[name].append(total)
    medians = {name: statistics.median(t) for name, t in totals.items()}
    for name, median in medians.items():
        print(f"import core.nn.tf, {name}: {median:.2f} s (median of {args.rounds} fresh processes)")
    if args.against:
        installed, other = medians.values()
        print(f"installed / with {args.against} first: {installed / other:.2f}x")
    print("slowest modules by their own time (last run, as installed first):")
    for own, name in run(None)[1][:8]:
        print(f"  {own:5.2f} s  {name}")


if __name__ == "__main__":
    main()
