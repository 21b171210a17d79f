# The two commands of the README, and a few helpers.
#   make book        build the rendered book offline (smoke mode) -> _build/html/index.html
#   make test        run every test (unit, notebooks, book build, browser)
#   make notebooks   regenerate notebooks/{ko,en}/ from book/
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: book test notebooks clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps "d2l==1.0.3"   # d2l pins numpy==1.23.5; we keep ours
	$(PY) -m pip install -q "playwright>=1.40"         # drives the system Chromium in the browser test
	touch $@

book: $(VENV)/.installed
	BOOK_MODE=smoke $(VENV)/bin/jupyter-book build . --all
	@echo "The book is at: file://$(CURDIR)/_build/html/index.html"

test: $(VENV)/.installed
	bash scripts/browser_deps.sh
	BOOK_MODE=smoke $(PY) -m pytest

notebooks: $(VENV)/.installed
	$(PY) scripts/make_notebooks.py

clean:
	rm -rf _build tests/artifacts
