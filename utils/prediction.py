"""What both frameworks' prediction and loading share.

The checks on ``predict_sentiment`` / ``predict`` input, the result type and table, and the
checks on a saved classifier folder (which framework wrote it, what is missing or damaged).
"""
from collections import namedtuple
from pathlib import Path

from utils.env import one_line, progress

Prediction = namedtuple("Prediction", ["label", "probability"])
Prediction.__doc__ = "One text's predicted label name and the model's probability for it."


def check_texts(texts):
    """Validate ``predict_sentiment`` input; return ``(list_of_texts, was_single_string)``.

    A non-string raises TypeError and an empty or blank string ValueError, both naming
    the index of the offending item.
    """
    single = isinstance(texts, str)
    if single:
        texts = [texts]
    elif not isinstance(texts, (list, tuple)):
        raise TypeError(f"texts must be a string or a list of strings, not {type(texts).__name__}.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__} ({text!r}), not a string. "
                            f"Pass text, e.g. str(value).")
        if not text.strip():
            raise ValueError(f"texts[{i}] is empty or blank; there is nothing to classify. "
                             f"Remove it or give it some words.")
    return list(texts), single


def check_prediction_options(batch_size, max_len):
    """``predict_sentiment`` / ``predict``: a batch holds a text or more, and a text at least [CLS], a token and [SEP]."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}: give a whole number of texts per batch, 1 or more.")
    if not isinstance(max_len, int) or max_len < 3:
        raise ValueError(f"max_len={max_len!r}: give 3 or more tokens ([CLS], at least one token of "
                         f"the text, [SEP]); BERT reads up to 512.")


def prediction_table(texts, label_names, probabilities):
    """``predict``'s table in both frameworks: the text, the predicted label and every class's
    probability (a numpy array of shape (texts, classes)), one row per text."""
    import pandas as pd

    table = pd.DataFrame(probabilities, columns=list(label_names))
    table.insert(0, "label", [label_names[k] for k in probabilities.argmax(-1).tolist()])
    table.insert(0, "text", texts)
    return table


# The files each framework's save_classifier writes, to tell a folder's framework and what it lacks.
CLASSIFIER_FILES = {"utils.pytorch": ("config.json", "classifier.json", "classifier.pt"),
                    "utils.gluon": ("config.json", "vocab.json", "model.params")}


def check_classifier_folder(path, loader):
    """``path`` if it holds a classifier that ``loader`` ("utils.pytorch" or "utils.gluon") reads;
    else an error that names the missing or empty file, or the other framework's loader."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder. Give the folder that {loader}.save_classifier wrote.")
    missing = [name for name in CLASSIFIER_FILES[loader] if not (path / name).is_file()]
    if missing:
        other = next((name for name, files in CLASSIFIER_FILES.items()
                      if name != loader and all((path / f).is_file() for f in files)), None)
        if other:
            raise ValueError(f"{path} holds a classifier saved by {other}, not by {loader}: load it with "
                             f"{other}.load_classifier.")
        raise FileNotFoundError(f"{path} lacks {', '.join(missing)}: give the folder that "
                                f"{loader}.save_classifier(model, tokenizer, path) wrote.")
    empty = [name for name in CLASSIFIER_FILES[loader] if (path / name).stat().st_size == 0]
    if empty:
        raise ValueError(f"{path / empty[0]} is empty: the save was interrupted. Save the classifier again.")
    return path


def damaged(file, error):
    """The error for a saved file that exists but cannot be read (cut off, or not what it should be)."""
    return ValueError(f"{file} is damaged and cannot be read ({one_line(error, 120)}). "
                      f"It was probably cut off while saving; save it again.")


def check_label_names(label_names, num_classes):
    """Fail early when the label names do not match the classifier's number of outputs."""
    if len(label_names) != num_classes:
        raise ValueError(f"{len(label_names)} label names {list(label_names)} for a classifier "
                         f"with {num_classes} outputs; give one name per class.")
    return list(label_names)


PROGRESS_FROM_BATCHES = 20   # prediction shows a progress bar above this many batches


def batch_progress(batches, count):
    """Prediction's progress bar over ``batches`` (``count`` of them): none for a few batches."""
    few = {"disable": True} if count <= PROGRESS_FROM_BATCHES else {}
    return progress(batches, total=count, desc="predict", unit="batch", leave=False, **few)


def write_predictions(probabilities_of, source, target, label_names, chunk_size=4096):
    """Classify every line of the UTF-8 text file ``source`` (one text per line) and write the
    CSV ``target``: ``line`` (1-based), ``label`` and one probability column per class.

    ``probabilities_of(texts)`` gives a (texts, classes) numpy array, in the texts' order. The file
    is read ``chunk_size`` lines at a time and each chunk's rows are written before the next is
    read, so memory holds one chunk whatever the file's size. The rows go to ``target.part``,
    renamed to ``target`` at the end: a stopped run leaves no half-written answer. Returns the
    number of texts.
    """
    import csv

    source, target = Path(source), Path(target)
    if not source.is_file():
        raise FileNotFoundError(f"{source} is not a file. Give a UTF-8 text file with one text per line.")
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size!r}: give 1 or more lines per chunk.")
    with source.open("rb") as lines:
        total = sum(1 for _ in lines)                                   # a first pass: the progress bar's total
    partial = target.with_name(target.name + ".part")
    with source.open("rb") as lines, partial.open("w", newline="", encoding="utf-8") as out, \
            progress(total=total, unit="text", desc=source.name) as bar:
        writer = csv.writer(out)
        writer.writerow(["line", "label", *label_names])
        try:
            for first, chunk in _text_chunks(lines, source, chunk_size):
                probabilities = probabilities_of(chunk)                 # (chunk, classes)
                for number, row in enumerate(probabilities.tolist(), start=first):
                    writer.writerow([number, label_names[max(range(len(row)), key=row.__getitem__)],
                                     *(f"{p:.6f}" for p in row)])
                bar.update(len(chunk))
        except ValueError:                                              # a bad line: no answer file at all
            out.close()
            partial.unlink()
            raise
    partial.replace(target)
    return total


def _text_chunks(lines, source, chunk_size):
    """``(first line number, texts)`` for each ``chunk_size`` lines of the binary file ``lines``;
    an error that names the line for a blank line or one that is not UTF-8."""
    from itertools import islice

    first = 1
    while raw_lines := list(islice(lines, chunk_size)):
        texts = []
        for number, raw in enumerate(raw_lines, start=first):
            try:   # utf-8-sig on line 1: the byte-order mark that Excel and Notepad put first is not text
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"{source}, line {number} is not UTF-8 (byte {error.start + 1} of the line). Save the file "
                    f"as UTF-8; a Korean file from Windows is often CP949 and converts with "
                    f"Path(name).write_text(Path(name).read_text(encoding='cp949'), encoding='utf-8').") from None
            if not text.strip():
                raise ValueError(f"{source}, line {number} is blank: there is nothing to classify. "
                                 f"Remove blank lines (one text per line), then run again.")
            texts.append(text)
        yield first, texts
        first += len(texts)
