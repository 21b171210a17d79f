"""Publishing: the GitHub Pages workflow is valid, and the README gives the book's address."""
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def pages_address():
    """https://OWNER.github.io/REPO/ for repository.url https://github.com/OWNER/REPO."""
    url = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    owner, repository = url.rstrip("/").removeprefix("https://github.com/").split("/")
    return f"https://{owner.lower()}.github.io/{repository}/"


def test_workflow_passes_actionlint():
    actionlint = Path(sys.executable).parent / "actionlint"  # from requirements-book.txt
    result = subprocess.run([str(actionlint), "-no-color", str(WORKFLOW)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs-on: ${{ vars.NO_SUCH "))
    result = subprocess.run([str(Path(sys.executable).parent / "actionlint"), "-no-color", str(broken)],
                            capture_output=True, text=True)
    assert result.returncode != 0


def test_workflow_builds_both_editions_and_deploys_them():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = workflow["jobs"]["build"]["steps"]
    assert any("make book" in step.get("run", "") for step in steps)
    assert any(step.get("uses", "").startswith("actions/upload-pages-artifact") and
               step["with"]["path"] == "_build/html" for step in steps)
    assert workflow["jobs"]["deploy"]["steps"][0]["uses"].startswith("actions/deploy-pages")


def test_readme_gives_the_books_address():
    assert pages_address() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_layout_tables_list_every_folder_and_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1] for line in readme.splitlines() if line.startswith("| `")]
    assert len(rows) % 2 == 0
    korean, english = rows[: len(rows) // 2], rows[len(rows) // 2:]
    assert korean == english   # the same rows in both languages
    listed = " ".join(english)
    ignored = {".git", ".gitignore", "README.md", ".venv", ".venv313", "_build", "runs", "__pycache__", ".pytest_cache"}
    for entry in sorted(ROOT.iterdir()):
        if entry.name in ignored or entry.name.startswith(".git") and entry.name != ".github":
            continue
        name = entry.name + ("/" if entry.is_dir() else "")
        assert f"`{name}" in listed or (entry.name.startswith("requirements") and "`requirements*.txt`" in listed), name
    for module in sorted((ROOT / "utils").glob("*.py")):
        if module.name != "__init__.py":
            assert f"`utils/{module.name}`" in listed, module.name
