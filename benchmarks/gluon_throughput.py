"""Benchmark 2: fine-tuning throughput in MXNet Gluon, the book's pipeline vs the seed tutorial's.

Both train the same gluonnlp BERT configuration (dropout 0.1, the same initial weights) on
the same NSMC-like reviews for one epoch on one CPU context, after an untimed warm-up run;
the measure is real (non-padding) tokens per second of training.
- book: ``utils.gluon.make_loader(shuffle=True)`` (FixedBucketSampler: batches of
  similar lengths, each padded to its own longest review) and ``utils.gluon.train_loop``:
  plain ``net.hybridize()`` (not ``static_alloc=True``, which measured slower with bucketed
  batches: see the comment in train_loop), BERTAdam with weight decay (none on LayerNorm and
  biases), linear warmup and decay, per-sample mean gradients, global-norm clipping at 1;
  timed by its ``history["seconds"]``, the training steps without the validation pass;
- seed: every review padded to 64 tokens, batches in file order, and the seed tutorial's
  step (``train_seed``): ``net.hybridize()``, BERTAdam at a constant learning rate without
  weight decay, the batch-mean loss, ``allreduce_grads``, global-norm clipping at 1 and
  ``trainer.update(batch_size)`` (which divides the mean by the batch size once more:
  a smaller step, the same speed).
"""
import time

from benchmarks.corpus import nsmc_like_corpus
from utils.pytorch import encode
from utils.tokenization import KoBertTokenizer, sample_korean_sentencepiece

SEED_MAX_LEN = 64
SIZES = {  # reviews, batch size, BERT configuration (gluonnlp names)
    "small": (192, 32, dict(num_layers=1, units=32, hidden_size=64, num_heads=2)),
    "full": (4096, 64, dict(num_layers=4, units=256, hidden_size=1024, num_heads=4)),
}


def train_seed(net, loader, ctx):
    """The seed tutorial's epoch; returns seconds."""
    import mxnet as mx
    import gluonnlp as nlp
    from mxnet import gluon

    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "bertadam", {"learning_rate": 5e-5, "epsilon": 1e-9})
    params = [p for p in net.collect_params().values() if p.grad_req != "null"]
    loss_function = gluon.loss.SoftmaxCELoss()
    started = time.perf_counter()
    for token_ids, valid_length, segment_ids, label in loader:
        with mx.autograd.record():
            token_ids, segment_ids = token_ids.as_in_context(ctx), segment_ids.as_in_context(ctx)
            valid_length, label = valid_length.as_in_context(ctx), label.as_in_context(ctx)
            out = net(token_ids, segment_ids, valid_length.astype("float32"))
            loss = loss_function(out, label).mean()
        loss.backward()
        trainer.allreduce_grads()
        nlp.utils.clip_grad_global_norm(params, 1)
        trainer.update(token_ids.shape[0])
    mx.nd.waitall()
    return time.perf_counter() - started


def run(size="full", seed=0):
    import mxnet as mx

    from utils import gluon as ug

    n, batch_size, config = SIZES[size]
    ctx = mx.cpu()
    tokenizer = KoBertTokenizer(sample_korean_sentencepiece())
    texts, labels = nsmc_like_corpus(n, seed)
    token_ids = encode(tokenizer, texts, SEED_MAX_LEN)
    samples = [(ids, len(ids), [0] * len(ids), label) for ids, label in zip(token_ids, labels)]
    real_tokens = sum(map(len, token_ids))
    bert_config = dict(ug.SMOKE_BERT, **config)

    def fresh():
        mx.random.seed(seed)
        return ug.BERTClassifier(ug.build_bert(bert_config, len(tokenizer), ctx), num_classes=2)

    pad = tokenizer.pad_token_id
    book_loader = ug.make_loader(samples, batch_size, pad, shuffle=True)
    valid_loader = ug.make_loader(samples[:batch_size], batch_size, pad)
    ug.train_loop(fresh(), ug.make_loader(samples[:2 * batch_size], batch_size, pad, shuffle=True),
                  valid_loader, epochs=1, lr=5e-5, ctx=ctx)                # warm-up, not timed
    seconds = {
        "seed": train_seed(fresh(), ug.make_loader(samples, batch_size, pad, fixed_len=SEED_MAX_LEN), ctx),
        "book": ug.train_loop(fresh(), book_loader, valid_loader, epochs=1, lr=5e-5, ctx=ctx)["seconds"][-1],
    }
    per_second = {name: real_tokens / s for name, s in seconds.items()}
    return {"reviews": n, "batch_size": batch_size, "config": config, "real_tokens": real_tokens,
            "seconds": seconds, "tokens_per_second": per_second,
            "book_vs_seed": per_second["book"] / per_second["seed"]}
