"""Speed benchmarks: the book's pipelines next to faithful re-creations of the seed tutorials'.

    python -m benchmarks.run            # every benchmark, writes benchmarks/results.md
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "benchmark-result: "


def in_fresh_process(module, *args):
    """``python -m benchmarks.<module> ARGS...`` in a new Python; returns the dict it printed after
    ``RESULT_PREFIX`` (a worker's ``__main__`` prints its result that way). A fresh process has
    none of the memory, caches or libraries (MXNet's OpenMP threads) that earlier benchmarks left."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode or not lines:
        raise RuntimeError(f"benchmarks.{module} {' '.join(map(str, args))} failed:\n{done.stdout[-2000:]}\n"
                           f"{done.stderr[-4000:]}")
    return json.loads(lines[-1][len(RESULT_PREFIX):])


def print_result(result):
    """What a worker's ``__main__`` prints for ``in_fresh_process``."""
    print(RESULT_PREFIX + json.dumps(result))
