import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"

# Tests, notebooks run by nbmake and the book build are offline: always smoke mode.
os.environ["BOOK_MODE"] = "smoke"
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """Build the whole book once, warnings as errors, and return the HTML folder."""
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--all", "-W",
         "--path-output", str(out)], capture_output=True, text=True, cwd=ROOT)
    log = result.stdout + result.stderr
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "book-build.log").write_text(log, encoding="utf-8")
    assert result.returncode == 0, f"jupyter-book build -W failed:\n{log[-6000:]}"
    return out / "_build" / "html"

