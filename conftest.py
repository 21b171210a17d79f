"""pytest hooks for every test path (tests/ and notebooks/ko/); fixtures live in tests/conftest.py."""
from pathlib import Path

import pytest


def pytest_collection_modifyitems(items):
    """Mark every test that needs PyTorch, so that CI's run on Colab's Python (no torch there)
    can leave them out with ``-m "not torch"``: a notebook whose setup cell installs the
    "pytorch" stack, and the tests marked ``@pytest.mark.torch`` by hand."""
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb" and '"pytorch"' in _setup_cell_stacks(path):
            item.add_marker(pytest.mark.torch)


def _setup_cell_stacks(notebook):
    import json
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    setup = next(("".join(c["source"]) for c in cells if "STACKS = " in "".join(c["source"])), "")
    return next((line for line in setup.splitlines() if line.startswith("REPO_URL, BRANCH, STACKS")), "")
