"""The fine-tuning command, python -m utils.finetune, in smoke mode."""
import json
import subprocess
import sys

import pytest
from pathlib import Path
import torch

from utils.data import load_imdb
from utils.finetune import build_parser

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def finetune(*args, processes=1):
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    return subprocess.run([sys.executable, *(launcher if processes > 1 else []), "-m", "utils.finetune",
                           *map(str, args)], capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("finetune")
    train, test = load_imdb("train"), load_imdb("test")
    with open(folder / "train.tsv", "w", encoding="utf-8") as f:
        f.write("review\tsentiment\n")
        for text, label in zip(train["text"], train["label"]):
            f.write(" ".join(text.split()) + f"\t{label}\n")  # a TSV row may hold no tab or newline
    test.rename(columns={"text": "review", "label": "sentiment"}).to_csv(folder / "valid.csv", index=False)
    return folder


def test_help_explains_every_option():
    out = finetune("--help")
    assert out.returncode == 0
    for action in build_parser()._actions:
        for flag in action.option_strings:
            assert flag in out.stdout
        assert action.help, f"{action.option_strings} has no help text"


def test_fine_tunes_on_tsv_and_csv_and_saves_a_usable_model(files):
    out = finetune("--train", files / "train.tsv", "--valid", files / "valid.csv",
                   "--text-column", "review", "--label-column", "sentiment", "--epochs", "2",
                   "--batch-size", "16", "--accumulation-steps", "2", "--max-length", "64",
                   "--save", files / "model")
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads((files / "model" / "training.json").read_text())
    assert record["mode"] == "smoke" and record["label_names"] == ["negative", "positive"]
    assert record["history"]["epoch"] == [1, 2]
    assert (files / "model" / "history.png").stat().st_size > 10_000
    from utils.pytorch import load_classifier, predict_sentiment
    model, tokenizer = load_classifier(files / "model")
    assert predict_sentiment(model, tokenizer, "a great film").label in ("negative", "positive")


def test_fine_tunes_kobert_on_nsmc_files_as_they_are(tmp_path):
    from utils.data import SAMPLE_DIR
    from utils.pytorch import load_classifier, predict_sentiment
    from utils.tokenization import KoBertTokenizer

    nsmc = SAMPLE_DIR / "nsmc"
    out = finetune("--train", nsmc / "ratings_train.txt", "--valid", nsmc / "ratings_test.txt",
                   "--text-column", "document", "--model-name", "skt/kobert-base-v1",
                   "--epochs", "1", "--max-length", "64", "--save", tmp_path / "kobert")
    assert out.returncode == 0, out.stderr[-3000:]
    model, tokenizer = load_classifier(tmp_path / "kobert")
    assert isinstance(tokenizer, KoBertTokenizer)
    assert predict_sentiment(model, tokenizer, "ㅋㅋ 꿀잼 👍").label in ("negative", "positive")


def test_frozen_with_precomputed_features(files):
    out = finetune("--train", files / "train.tsv", "--text-column", "review", "--label-column",
                   "sentiment", "--frozen", "--precompute-features", "--head-lr", "1e-3",
                   "--epochs", "1", "--save", files / "frozen")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "valid 22" in out.stdout  # 10% of the 220 training reviews held out


@pytest.mark.parametrize("args, message", [
    (["--text-column", "text"], "has no column 'text'"),
    (["--text-column", "review", "--label-column", "sentiment", "--precompute-features"],
     "--precompute-features needs --frozen"),
])
def test_bad_arguments_get_a_clear_message(files, args, message):
    out = finetune("--train", files / "train.tsv", *args)
    assert out.returncode != 0 and message in out.stderr
    assert "Traceback" not in out.stderr


def test_torchrun_two_processes_match_one_process_with_the_same_global_batch(files):
    """DDP on the CPU (gloo): two processes with 8 texts each train like one process with 16.

    BERT's dropout is off, so the only differences left are floating-point sums taken in
    another order: the curves must agree within 1e-5. A run with another global batch
    (8) shows that the tolerance separates the two cases. The command trains with AdamW,
    which hardly notices a gradient scaled by the number of processes; that scale is checked
    with plain SGD in tests/test_pytorch.py (test_train_loop_and_evaluate_under_...).
    """
    common = ["--train", files / "train.tsv", "--valid", files / "valid.csv", "--text-column", "review",
              "--label-column", "sentiment", "--epochs", "3", "--max-length", "64", "--lr", "1e-3",
              "--bert-dropout", "0", "--dropout", "0"]
    runs = {}
    for name, batch_size, processes in (("one", 16, 1), ("two", 8, 2), ("other batch", 8, 1)):
        out = finetune(*common, "--batch-size", batch_size, "--save", files / name, processes=processes)
        assert out.returncode == 0, out.stderr[-3000:]
        runs[name] = json.loads((files / name / "training.json").read_text())
    two = runs["two"]
    assert two["processes"] == 2 and two["global_batch"] == 16
    assert two["largest_weight_difference_between_processes"] == 0.0   # both ranks hold the same weights
    curves = ("train_loss", "valid_loss")
    for curve in curves:
        assert two["history"][curve] == pytest.approx(runs["one"]["history"][curve], abs=1e-5)
    assert max(abs(a - b) for curve in curves for a, b in
               zip(runs["other batch"]["history"][curve], runs["one"]["history"][curve])) > 1e-4

    from utils.pytorch import load_classifier
    one, _ = load_classifier(files / "one", device="cpu")
    two, _ = load_classifier(files / "two", device="cpu")
    for (name, a), b in zip(one.state_dict().items(), two.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-4), name


def test_precompute_features_refuses_torchrun_with_a_clear_message(files):
    out = finetune("--train", files / "train.tsv", "--text-column", "review", "--label-column", "sentiment",
                   "--frozen", "--precompute-features", processes=2)
    assert out.returncode != 0 and "--precompute-features runs in one process" in out.stderr
    assert "finetune.py\", line" not in out.stderr   # torchrun reports the exit; our code did not crash


# ------------------------------------------------------------ options, labels, saving, resuming

from utils import finetune as command  # noqa: E402


def run_main(capsys, *args):
    """main() in this process; return (exit code or None, stderr)."""
    try:
        command.main([str(a) for a in args])
        code = None
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "0"], "--batch-size 0: it must be 1 or more"),
    (["--epochs", "0"], "--epochs 0: it must be 1 or more"),
    (["--accumulation-steps", "0"], "--accumulation-steps 0: it must be 1 or more"),
    (["--lr", "nan"], "--lr nan: it must be a number above 0"),
    (["--lr=-1e-5"], "--lr -1e-05: it must be a number above 0"),
    (["--head-lr", "inf"], "--head-lr inf: it must be a number above 0"),
    (["--dropout", "1"], "--dropout 1.0: a dropout probability must be in [0, 1)"),
    (["--bert-dropout", "-0.1"], "--bert-dropout -0.1: a dropout probability must be in [0, 1)"),
    (["--max-length", "2"], "--max-length 2: it must be between 3"),
    (["--max-length", "513"], "and 512, BERT's number of positions"),
    (["--warmup-ratio", "1.5"], "--warmup-ratio 1.5: it is a share of the updates, in [0, 1]"),
    (["--patience", "0"], "--patience 0: it must be 1 or more"),
    (["--resume", "no-such-state.pt"], "--resume no-such-state.pt: there is no such file"),
])
def test_options_that_cannot_work_are_refused_before_anything_is_read(capsys, tmp_path, args, message):
    code, err = run_main(capsys, "--train", tmp_path / "not-read.tsv", "--save", tmp_path / "run", *args)
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def write_tsv(path, rows):
    path.write_text("text\tlabel\n" + "".join(f"{text}\t{label}\n" for text, label in rows), encoding="utf-8")
    return path


def test_labels_are_stripped_like_read_nsmc_and_one_class_is_refused_with_its_count(tmp_path, capsys):
    table = command.read_table(write_tsv(tmp_path / "t.tsv", [("good", "1 "), ("bad", "0"), ("fine", " 1")]),
                               "text", "label")
    assert sorted(set(table["label"])) == ["0", "1"]
    one = write_tsv(tmp_path / "one.tsv", [("good", "1"), ("fine", "1 "), ("great", "1")])
    code, _ = run_main(capsys, "--train", one, "--save", tmp_path / "run")
    assert "one.tsv has fewer than two classes ('1': 3)" in str(code)
    few = write_tsv(tmp_path / "few.tsv", [("good", 1), ("bad", 0), ("fine", 1)])  # one negative: no split
    code, _ = run_main(capsys, "--train", few, "--save", tmp_path / "run")
    assert "too small to hold out 10% for validation" in str(code) and "20 rows in all" in str(code)


def test_label_names_that_cannot_apply_are_an_error():
    with pytest.raises(SystemExit, match="--label-names names integer labels.*leave --label-names out"):
        command.label_ids(["neg", "pos"], ["pos"], "negative,positive")


def test_save_never_overwrites_a_folder_that_is_not_a_run_and_asks_for_overwrite(tmp_path, capsys):
    train = write_tsv(tmp_path / "t.tsv", [("good", 1), ("bad", 0)] * 10)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.json").write_text("{}")  # the reader's own file
    code, err = run_main(capsys, "--train", train, "--save", mine)
    assert code == 2 and "not a run of this command" in err and (mine / "config.json").read_text() == "{}"
    (tmp_path / "a-file").write_text("x")
    code, err = run_main(capsys, "--train", train, "--save", tmp_path / "a-file")
    assert code == 2 and "it is a file" in err


def test_a_run_replaces_an_earlier_one_only_with_overwrite(files, capsys):
    common = ["--train", files / "train.tsv", "--text-column", "review", "--label-column", "sentiment",
              "--frozen", "--precompute-features", "--head-lr", "1e-3", "--epochs", "1", "--save", files / "again"]
    assert run_main(capsys, *common)[0] is None
    first = (files / "again" / "training.json").read_text()
    code, err = run_main(capsys, *common)
    assert code == 2 and "holds an earlier run. Add --overwrite" in err
    assert run_main(capsys, *common, "--seed", "7", "--overwrite")[0] is None
    assert (files / "again" / "training.json").read_text() != first
    assert not list(files.glob(".again.*"))  # no partial folder, previous run or state file left


def saved_run(folder, marker):
    folder.mkdir()
    (folder / "training.json").write_text(marker)
    return folder


def test_a_kill_while_replacing_a_run_leaves_the_previous_one_loadable(tmp_path, monkeypatch):
    save, partial = saved_run(tmp_path / "run", "old"), saved_run(tmp_path / ".run.partial-1", "new")
    renames, rename = [], Path.rename

    def killed_on_second_rename(self, target):
        renames.append(target)
        if len(renames) == 2:
            raise KeyboardInterrupt
        return rename(self, target)
    monkeypatch.setattr(Path, "rename", killed_on_second_rename)
    with pytest.raises(KeyboardInterrupt):
        command.move_into_place(partial, save, overwrite=True)
    (previous,) = tmp_path.glob(".run.previous-*")
    assert (previous / "training.json").read_text() == "old" and (partial / "training.json").read_text() == "new"


def test_a_run_saved_meanwhile_into_the_same_folder_is_not_lost(tmp_path):
    save, partial = saved_run(tmp_path / "run", "the other run"), saved_run(tmp_path / ".run.partial-1", "this run")
    with pytest.raises(SystemExit, match=r"another run was saved to .*run while this one trained.*kept in .*partial-1"):
        command.move_into_place(partial, save, overwrite=False)
    assert (save / "training.json").read_text() == "the other run"
    assert (partial / "training.json").read_text() == "this run"


def test_an_interrupted_run_keeps_its_last_epoch_and_resumes_from_it(files, capsys, monkeypatch):
    from utils import pytorch as ut
    common = ["--train", files / "train.tsv", "--text-column", "review", "--label-column", "sentiment",
              "--frozen", "--precompute-features", "--head-lr", "1e-3", "--epochs", "2",
              "--save", files / "resumed", "--save-state", files / "state.pt"]
    evaluate, calls = ut.evaluate, []

    def interrupted_in_epoch_2(*args, **kwargs):  # Ctrl-C while epoch 2 is validated
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)
    monkeypatch.setattr(ut, "evaluate", interrupted_in_epoch_2)
    code, err = run_main(capsys, *common)
    assert code == 130 and "nothing was saved" in err and f"--resume {files / 'state.pt'}" in err
    assert not (files / "resumed").exists()
    monkeypatch.setattr(ut, "evaluate", evaluate)
    assert run_main(capsys, *common, "--resume", files / "state.pt")[0] is None
    record = json.loads((files / "resumed" / "training.json").read_text())
    assert record["history"]["epoch"] == [1, 2]
    assert (files / "state.pt").is_file()  # asked for by name: kept


@pytest.mark.parametrize("name, content, message", [
    ("excel.tsv", "text\tlabel\n좋아요\t1\n".encode("cp949"), "is not UTF-8 text (line 2"),
    ("broken.csv", b"text,label\ngood,1\nbad, really bad,0\n", "broken.csv, line 3: expected 2 comma-separated "
                                                               "fields (text, label), found 3"),
    ("tab.tsv", b"text\tlabel\ngood\t1\nbad\tvery\t0\n", "tab.tsv, line 3: expected 2 tab-separated fields "
                                                          "(text, label), found 3. A text with a tab"),
    ("empty.tsv", b"", "is empty; it needs a header line and rows"),
])
def test_data_files_a_reader_gets_wrong_get_a_one_line_error(tmp_path, capsys, name, content, message):
    (tmp_path / name).write_bytes(content)
    code, _ = run_main(capsys, "--train", tmp_path / name, "--save", tmp_path / "run")
    assert message in str(code) and str(tmp_path / name) in str(code)
    code, _ = run_main(capsys, "--train", tmp_path, "--save", tmp_path / "run")
    assert "is a folder; give the path of the data file inside it" in str(code)
