"""Run the benchmarks and write their results next to the targets.

    python -m benchmarks.run                      # full size: benchmarks/results.md and results.json
    python -m benchmarks.run --size small --out /tmp/results.md   # seconds; what the tests run

Absolute times depend on the machine; the ratios between pipelines measured in one run
are what the book quotes. The targets are shown, never asserted.
"""
import argparse
import json
import os
import platform
from pathlib import Path

import torch

from benchmarks import gluon_throughput, preprocessing, pytorch_throughput

HERE = Path(__file__).resolve().parent


def _row(name, measured, target, met):
    return f"| {name} | {measured} | {target} | {'yes' if met else '**no**'} |"


def report(throughput, gluon, prep, size):
    lines = [f"# Benchmark results ({size} size)", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores ({throughput['torch_threads']} torch "
             f"threads in benchmark 1), torch {torch.__version__}, Python {platform.python_version()}. "
             f"CPU only.", "",
             "| benchmark | measured | target | met |", "|---|---|---|---|",
             _row("1. PyTorch fine-tuning: book / seed, real tokens per second",
                  f"{throughput['book_vs_seed']:.2f}x", ">= 2.5x", throughput["book_vs_seed"] >= 2.5),
             _row("1. PyTorch fine-tuning: book / padding-free limit",
                  f"{throughput['book_share_of_limit']:.0%}", ">= 90%",
                  throughput["book_share_of_limit"] >= 0.9),
             _row("2. Gluon fine-tuning: book / seed, real tokens per second",
                  f"{gluon['book_vs_seed']:.2f}x", ">= 2x", gluon["book_vs_seed"] >= 2),
             _row(f"3. Preprocessing speed, {prep['reviews_speed']:,} reviews: book / seed",
                  f"{prep['speedup']:.2f}x", ">= 10x", prep["speedup"] >= 10),
             _row(f"3. Peak memory, {prep['reviews_memory']:,} reviews: book / seed",
                  f"{prep['memory_ratio']:.2f}", "<= 0.33", prep["memory_ratio"] <= 1 / 3),
             "", "Timings vary by a few percent from run to run; a share of the padding-free limit above 100% "
             "means the two are equal within that noise.", "",
             "Not measured yet: 4 (GPU; this machine has none).", "",
             "## Details", "", "```json",
             json.dumps({"pytorch_throughput": throughput, "gluon_throughput": gluon, "preprocessing": prep},
                        indent=2, default=str),
             "```", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=("small", "full"), default="full")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)
    throughput = pytorch_throughput.run(args.size)
    gluon = gluon_throughput.run(args.size)
    prep = preprocessing.run(args.size)
    args.out.write_text(report(throughput, gluon, prep, args.size), encoding="utf-8")
    measured = {"size": args.size, "machine": machine(),
                "pytorch_throughput": throughput, "gluon_throughput": gluon, "preprocessing": prep}
    args.out.with_suffix(".json").write_text(json.dumps(measured, indent=2, default=str) + "\n")
    print(f"results written to {args.out} and {args.out.with_suffix('.json').name}")
    return throughput, gluon, prep


if __name__ == "__main__":
    main()
