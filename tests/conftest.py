import os
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
    """Build both editions once (scripts/build_book.py), warnings as errors; return the HTML
    folder: ko/, en/ and the root index.html."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_book

    out = tmp_path_factory.mktemp("book") / "html"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        logs = build_book.build(out, warnings_as_errors=True)
    except RuntimeError as error:
        (ARTIFACTS / "book-build.log").write_text(str(error), encoding="utf-8")
        pytest.fail(f"the book build failed:\n{str(error)[-6000:]}")
    (ARTIFACTS / "book-build.log").write_text("\n\n".join(logs.values()), encoding="utf-8")
    return out
