# The two commands of the README, and a few helpers.
#   make book        build both editions offline (smoke mode) -> _build/html/{index.html,ko/,en/}
#   make test        run every test (unit, notebooks, book build, browser)
#   make notebooks   regenerate notebooks/{ko,en}/ from book/
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BOOK_MODE ?= smoke
export PYTHONPATH := $(CURDIR)

.PHONY: book test notebooks clean

$(VENV)/.installed: requirements.txt requirements-pytorch.txt requirements-gluon.txt requirements-book.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-book.txt
	$(PY) -m pip install -q --no-deps -r requirements-gluon.txt   # their metadata caps numpy < 2
	touch $@

book: $(VENV)/.installed
	BOOK_MODE=$(BOOK_MODE) $(PY) scripts/build_book.py

test: $(VENV)/.installed
	bash scripts/browser_deps.sh
	BOOK_MODE=smoke $(PY) -m pytest

notebooks: $(VENV)/.installed
	$(PY) scripts/make_notebooks.py

clean:
	rm -rf _build tests/artifacts
