"""The benchmark command runs end to end in its small size (the targets are not asserted)."""
import json
import subprocess
import sys

import pytest
import torch

from benchmarks import pytorch_throughput as bench
from benchmarks import run
from benchmarks.corpus import MAX_CHARS, nsmc_like_corpus


def test_corpus_follows_nsmc_lengths():
    texts, labels = nsmc_like_corpus(3000, seed=1)
    lengths = [len(t) for t in texts]
    assert max(lengths) <= MAX_CHARS and min(lengths) >= 1
    assert 30 <= sum(lengths) / len(lengths) <= 40
    assert set(labels) == {0, 1}


def test_seed_mask_loop_equals_the_books_vectorised_mask():
    token_ids = torch.ones(3, 6, dtype=torch.long)
    valid_length = torch.tensor([6, 2, 4])
    vectorised = (torch.arange(6)[None, :] < valid_length[:, None]).float()
    assert torch.equal(bench.gen_attention_mask(token_ids, valid_length), vectorised)


def test_without_padding_keeps_batches_uniform_and_tokens_close():
    token_ids = [[2] + [7] * n + [3] for n in (1, 5, 2, 9, 4, 3)]
    uniform = bench.without_padding(token_ids, batch_size=3)
    assert len(uniform) == len(token_ids)
    for start in (0, 3):
        assert len({len(ids) for ids in uniform[start:start + 3]}) == 1
    assert abs(sum(map(len, uniform)) - sum(map(len, token_ids))) <= 2


def test_benchmark_command_writes_every_measure(tmp_path):
    results = run.main(["--size", "small", "--out", str(tmp_path / "results.md")])
    throughput, gluon, prep = (results[k] for k in ("pytorch_throughput", "gluon_throughput", "preprocessing"))
    text = (tmp_path / "results.md").read_text()
    assert f"Machine: {run.cpu_model()} (" in text and run.cpu_model()   # the machine is named
    for name in ("PyTorch fine-tuning (CPU): book / seed", "padding-free limit", "Gluon fine-tuning (CPU): book / seed",
                 "Preprocessing speed", "Peak memory", "4. BERT-base, one NSMC epoch", "not a GPU measurement",
                 "5. Prediction, 60 IMDB-like texts", "5. Prediction, 60 NSMC-like texts",
                 "5. book, int8 vs the book's fp32", "5. book, bf16 vs the book's fp32", "5. OpenVINO, int8 vs the book's fp32",
                 "book, bf16 / pipeline", "OpenVINO, fp32 / pipeline", "OpenVINO, int8 / pipeline"):
        assert name in text
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(results, default=str))
    gpu = results["gpu_throughput"]
    assert set(gpu["samples_per_second"]) == {"seed", "book"} and gpu["speedup"] > 0
    assert gpu["epoch_seconds"]["book"] == pytest.approx(150_000 / gpu["samples_per_second"]["book"])
    assert set(throughput["tokens_per_second"]) == {"seed", "book", "padding-free limit"}
    assert all(v > 0 for v in throughput["tokens_per_second"].values())
    assert gluon["book_vs_seed"] > 0 and gluon["real_tokens"] == throughput["real_tokens"]
    assert set(prep["speedup"]) == {"repetitive", "diverse"} and prep["memory_ratio"] > 0
    assert prep["distinct_chunks"]["diverse"] > 0.8 and prep["distinct_chunks"]["repetitive"] < 0.6
    pred = results["prediction"]
    for profile in ("IMDB-like", "NSMC-like"):
        assert pred[profile]["book_labels_equal_pipeline"]          # the same model answers the same
        assert set(pred[profile]["texts_per_second"]) == {"pipeline", "book", "book, int8", "book, bf16",
                                                          "OpenVINO, fp32", "OpenVINO, int8"}
        defaults = pred["glibc_defaults"][profile]                  # the second process: glibc's defaults
        assert set(defaults["texts_per_second"]) == {"pipeline", "book"} and defaults["book_labels_equal_pipeline"]
    assert pred["freed_memory"] == "kept" and pred["glibc_defaults"]["freed_memory"] == "returned"
    assert "With glibc's default settings" in text and f"{pred['glibc_defaults']['NSMC-like']['speedup']['book']:.2f}x on NSMC-like" in text
    assert pred["IMDB-like"]["mean_tokens"] > 3 * pred["NSMC-like"]["mean_tokens"]
    fresh = subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
                           capture_output=True, text=True, check=True)
    assert pred["threads"] == int(fresh.stdout)   # a fresh process's threads, not one left by importing mxnet
    for change in pred["vs_fp32"].values():                         # the test reviews, whole and cut
        assert change["texts"] > 200 and 0 <= change["labels_changed"] <= change["texts"]
    assert pred["vs_fp32"]["OpenVINO, fp32"]["largest_probability_change"] < 1e-4   # the same computation
