"""Fine-tuning BERT for text classification with MXNet Gluon and gluonnlp 0.10.

Reads top to bottom: the BERT encoder (``load_bert``, converted from a Hugging Face
checkpoint by ``convert_hf_bert``), the classifier on top, batching, the training loop, evaluation, prediction, and saving. The learning-rate
schedule, early stopping and the history (utils/recipe.py), and the input and folder checks
(utils/prediction.py) are shared with utils/pytorch.py.

Every ``ctx`` argument takes one MXNet context or a list of them (e.g. ``[mx.gpu(0),
mx.gpu(1)]``): data parallelism, where each context holds a copy of the parameters and
works on its part of every batch.

Shapes: B = batch size, B_c = the samples of a batch on one context, T = tokens in the
batch's longest sequence, H = hidden units, C = number of classes.
"""
import json
import math
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

import utils.env  # noqa: F401  restores the numpy aliases MXNet 1.9.1 needs: import before mxnet
import gluonnlp as nlp
import mxnet as mx
from mxnet import autograd, gluon

from utils import recipe, tokenization
from utils.env import book_mode, in_book_lang, model_download_failed, mx_context, progress
from utils.prediction import (Prediction, check_classifier_folder, check_label_names, check_prediction_options,
                              batch_progress, check_texts, damaged, prediction_table,
                              write_predictions)
from utils.recipe import DEFAULTS, EarlyStopping, check_finite_loss, lr_factor, new_history

# Per language, the Hugging Face checkpoint the Gluon chapters convert: the same weights as
# gluonnlp's model zoo had (bert_12_768_12 with book_corpus_wiki_en_uncased, kobert_news_wiki_ko_cased).
HF_CHECKPOINTS = {"en": "bert-base-uncased", "ko": "skt/kobert-base-v1"}


def gluon_config(hf_config):
    """gluonnlp's BERT settings (``build_bert``'s ``config``) for a transformers config.json dict."""
    return dict(num_layers=hf_config["num_hidden_layers"], units=hf_config["hidden_size"],
                hidden_size=hf_config["intermediate_size"],    # gluonnlp's name for the FFN width
                num_heads=hf_config["num_attention_heads"],
                max_length=hf_config["max_position_embeddings"],
                token_type_vocab_size=hf_config.get("type_vocab_size", 2),
                dropout=hf_config.get("hidden_dropout_prob", 0.1),
                layer_norm_eps=hf_config.get("layer_norm_eps", 1e-12))


SMOKE_BERT = gluon_config(recipe.SMOKE_BERT)   # the tiny BERT of smoke mode, as in utils.pytorch

SPECIAL_TOKENS = ("[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]")


def _contexts(ctx):
    """``ctx`` as a list: None -> [the GPU if there is one, else the CPU]; one context -> [it]."""
    if ctx is None:
        return [mx_context()]
    return list(ctx) if isinstance(ctx, (list, tuple)) else [ctx]


# ----------------------------------------------------------------------------- the encoder

def build_bert(config, vocab_size, ctx=None):
    """A randomly initialised gluonnlp BERTModel: embeddings, encoder and pooler, no heads.

    ``config`` has the keys of ``SMOKE_BERT``. The feed-forward activation is gluonnlp's
    'gelu', which is the exact (erf) GELU, the same as Hugging Face's ``hidden_act="gelu"``.
    ``ctx``: one context or a list; the weights get one identical copy per context.
    """
    ctxs = _contexts(ctx)
    encoder = nlp.model.BERTEncoder(
        num_layers=config["num_layers"], units=config["units"], hidden_size=config["hidden_size"],
        max_length=config["max_length"], num_heads=config["num_heads"], dropout=config["dropout"],
        layer_norm_eps=config["layer_norm_eps"], activation="gelu")
    bert = nlp.model.BERTModel(
        encoder, vocab_size, token_type_vocab_size=config["token_type_vocab_size"],
        units=config["units"], embed_size=config["units"],
        use_pooler=True, use_decoder=False, use_classifier=False)
    bert.initialize(mx.init.Normal(0.02), ctx=ctxs)
    # Gluon learns some weight shapes at the first call ("deferred initialisation");
    # one call on a 2-token input gives every weight its shape (on every context), so
    # set_data can fill it.
    first = ctxs[0]
    bert(mx.nd.ones((1, 2), ctx=first), mx.nd.zeros((1, 2), ctx=first), mx.nd.array([2], ctx=first))
    return bert


def bert_config(bert):
    """Read a BERTModel's size back from its layers (what ``build_bert`` needs to rebuild it)."""
    encoder = bert.encoder
    first_cell = encoder.transformer_cells[0]
    return dict(num_layers=len(encoder.transformer_cells), units=encoder._units,
                hidden_size=first_cell.ffn.ffn_1.weight.shape[0],
                num_heads=first_cell.attention_cell._num_heads, max_length=encoder._max_length,
                token_type_vocab_size=bert.token_type_embed[0].weight.shape[0],
                dropout=encoder._dropout, layer_norm_eps=encoder._layer_norm_eps)


def bert_vocab(tokens):
    """A gluonnlp BERTVocab of ``tokens`` (vocab.txt lines, in id order) that keeps their ids.

    ``BERTVocab(counter)`` alone would put [UNK] and the other special tokens first and
    renumber everything; ``token_to_idx`` pins every token to its id in the file.
    """
    tokens = list(tokens)
    missing = [t for t in SPECIAL_TOKENS if t not in tokens]
    if missing:
        raise ValueError(f"The vocabulary lacks the special tokens {missing}; a BERT vocab.txt "
                         f"must contain all of {list(SPECIAL_TOKENS)}.")
    token_to_idx = {}
    for idx, token in enumerate(tokens):
        token_to_idx.setdefault(token, idx)  # a repeated line keeps its first id, as in HF
    ids = sorted(token_to_idx.values())
    if ids != list(range(len(ids))):  # repeated lines leave gaps; close them up
        token_to_idx = {t: i for i, t in enumerate(token_to_idx)}
    return nlp.vocab.BERTVocab(Counter(list(token_to_idx)), token_to_idx=token_to_idx)


def _read_vocab_file(path):
    """The tokens of a BERT vocab.txt in id order (one per line, as transformers reads it)."""
    text = Path(path).read_text(encoding="utf-8")
    return [line.rstrip("\r") for line in text.rstrip("\n").split("\n")]


def _hf_name(name):
    """'bert.encoder...LayerNorm.gamma' -> 'encoder...LayerNorm.weight' (one naming for both eras)."""
    if name.startswith("bert."):
        name = name[len("bert."):]
    return name.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")


def convert_hf_bert(hf_weights, hf_config, hf_vocab_tokens, ctx=None):
    """Build a gluonnlp BERTModel holding a Hugging Face BERT's weights; return ``(bert, vocab)``.

    ``hf_weights``: name -> numpy array (a state_dict or ``safetensors.numpy.load_file``),
    with or without the ``bert.`` prefix, LayerNorm as ``weight/bias`` or ``gamma/beta``;
    ``cls.*`` pre-training heads are ignored. ``hf_config``: config.json as a dict.
    ``hf_vocab_tokens``: vocab.txt's tokens in id order.
    """
    if hf_config.get("hidden_act", "gelu") != "gelu":
        raise ValueError(f"hidden_act={hf_config['hidden_act']!r}: gluonnlp's BERT uses the exact "
                         f"GELU ('gelu'); this checkpoint would give different outputs.")
    if hf_config.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError("Only absolute (learned) position embeddings exist in gluonnlp's BERT.")
    hf = {_hf_name(k): np.asarray(v, dtype=np.float32) for k, v in hf_weights.items()
          if not _hf_name(k).startswith("cls.")}
    vocab = bert_vocab(hf_vocab_tokens)
    config = gluon_config(hf_config)
    bert = build_bert(config, len(vocab), ctx)

    # Row i of Gluon's word embedding must be the vector of vocab.idx_to_token[i].
    hf_row = {}
    for row, token in enumerate(hf_vocab_tokens):
        hf_row.setdefault(token, row)
    rows = [hf_row[token] for token in vocab.idx_to_token]

    gluon_to_hf = {  # Gluon parameter (structural name) <- Hugging Face weight
        "word_embed.0.weight": "embeddings.word_embeddings.weight",
        "token_type_embed.0.weight": "embeddings.token_type_embeddings.weight",
        "encoder.position_weight": "embeddings.position_embeddings.weight",
        "encoder.layer_norm.gamma": "embeddings.LayerNorm.weight",
        "encoder.layer_norm.beta": "embeddings.LayerNorm.bias",
        "pooler.weight": "pooler.dense.weight",
        "pooler.bias": "pooler.dense.bias",
    }
    for i in range(config["num_layers"]):
        cell, layer = f"encoder.transformer_cells.{i}.", f"encoder.layer.{i}."
        for part in ("query", "key", "value"):
            for kind in ("weight", "bias"):
                gluon_to_hf[f"{cell}attention_cell.proj_{part}.{kind}"] = f"{layer}attention.self.{part}.{kind}"
        for kind in ("weight", "bias"):
            gluon_to_hf[f"{cell}proj.{kind}"] = f"{layer}attention.output.dense.{kind}"
            gluon_to_hf[f"{cell}ffn.ffn_1.{kind}"] = f"{layer}intermediate.dense.{kind}"
            gluon_to_hf[f"{cell}ffn.ffn_2.{kind}"] = f"{layer}output.dense.{kind}"
        for gluon_kind, kind in (("gamma", "weight"), ("beta", "bias")):
            gluon_to_hf[f"{cell}layer_norm.{gluon_kind}"] = f"{layer}attention.output.LayerNorm.{kind}"
            gluon_to_hf[f"{cell}ffn.layer_norm.{gluon_kind}"] = f"{layer}output.LayerNorm.{kind}"

    missing = sorted(set(gluon_to_hf.values()) - set(hf))
    if missing:
        raise KeyError(f"The checkpoint lacks {len(missing)} BERT weights, e.g. {missing[:3]}. "
                       f"Is it a BERT checkpoint with a pooler (BertModel / BertForPreTraining)?")
    for name, param in bert._collect_params_with_prefix().items():
        value = hf[gluon_to_hf[name]]
        if name == "word_embed.0.weight":
            value = value[rows]  # (V, H) reordered to Gluon's token ids
        # Dense weights are (out, in) in both frameworks: no transpose.
        if value.shape != param.shape:
            raise ValueError(f"{name}: Gluon expects shape {param.shape}, the checkpoint's "
                             f"{gluon_to_hf[name]} has {value.shape}.")
        param.set_data(mx.nd.array(value, ctx=param.list_ctx()[0]))
    return bert, vocab


def _hf_weights(checkpoint):
    """A Hugging Face checkpoint's weights as numpy arrays: model.safetensors, else
    pytorch_model.bin (older repositories, KoBERT's among them, may only have the .bin)."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.utils import EntryNotFoundError
    from safetensors.numpy import load_file

    try:
        return load_file(hf_hub_download(checkpoint, "model.safetensors"))
    except EntryNotFoundError:
        import torch

        state = torch.load(hf_hub_download(checkpoint, "pytorch_model.bin"), map_location="cpu",
                           weights_only=True)
        return {name: tensor.numpy() for name, tensor in state.items()}


def _pretrained_bert(lang, vocab_tokens, ctx):
    """The Hugging Face checkpoint ``HF_CHECKPOINTS[lang]`` converted to a Gluon BERTModel.

    ``vocab_tokens``: the checkpoint's vocabulary in id order, as its tokenizer read it
    (``load_tokenizer``). Downloads (once; huggingface_hub caches them, and ``HF_ENDPOINT``
    redirects them) config.json, then the weights (see ``_hf_weights``). gluonnlp's model zoo
    is not tried: its S3 host has failed since 2024, and each attempt cost five retries
    without a timeout.
    """
    from huggingface_hub import hf_hub_download

    checkpoint = HF_CHECKPOINTS[lang]
    try:
        hf_config = json.loads(Path(hf_hub_download(checkpoint, "config.json")).read_text(encoding="utf-8"))
        weights = _hf_weights(checkpoint)
    except Exception as error:  # huggingface_hub raises its own error types when offline
        raise model_download_failed(checkpoint, error) from error
    bert, _ = convert_hf_bert(weights, hf_config, vocab_tokens, ctx)
    return bert


def _sentencepiece_tokens(sp_model_file):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(sp_model_file))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


class BERTSPTokenizer(nlp.data.BERTSPTokenizer):
    """gluonnlp's BERTSPTokenizer (BERT's basic tokenization, then SentencePiece per word),
    repaired for today's sentencepiece.

    gluonnlp 0.10 asks SentencePiece for a *sampled* segmentation with ``nbest_size=0``,
    which meant "no sampling" up to sentencepiece 0.1.96; 0.2 and newer raise
    ``ValueError: When enable_sampling is True, We must specify "nbest_size > 1" ...``
    (0.1.97 to 0.1.99: ``RuntimeError`` with the same message).
    Here each word gets SentencePiece's one best segmentation, which is what 0 meant.
    """

    def _tokenize_wordpiece(self, text):
        if self.sentencepiece is None:
            self._activate_sp()
        return self.sentencepiece._processor.EncodeAsPieces(text)


def _kobert_tokenizer(sp_model_file, vocab):
    return BERTSPTokenizer(str(sp_model_file), vocab, lower=False)  # KoBERT is cased


def load_bert(lang="en", ctx=None):
    """``(bert, tokenizer)``: a gluonnlp BERTModel with pooler and its tokenizer.

    The tokenizer is ``load_tokenizer(lang)``'s. smoke: a tiny random BERT (``SMOKE_BERT``)
    sized to it. full: the pretrained weights (see ``_pretrained_bert``).
    ``ctx``: one context or a list (a copy of the weights on each).
    """
    tokenizer = load_tokenizer(lang)
    ctx = ctx or mx_context()
    if book_mode() == "smoke":
        return build_bert(SMOKE_BERT, len(tokenizer.vocab), ctx), tokenizer
    return _pretrained_bert(lang, tokenizer.vocab.idx_to_token, ctx), tokenizer


def load_tokenizer(lang="en"):
    """The tokenizer ``load_bert(lang)`` returns, without building or downloading the model.

    "en": a lowercasing ``BERTTokenizer`` (WordPiece) on bert-base-uncased's vocab.txt.
    "ko": a cased ``BERTSPTokenizer`` (SentencePiece) on KoBERT's spiece.model, whose piece
    ids are KoBERT's token ids.
    smoke: the same kind trained on the language's bundled sample (the same files as
    utils.pytorch's, so the ids agree). full: the file from the Hugging Face checkpoint
    (``HF_CHECKPOINTS``), a few hundred kB; no weights.
    """
    if lang not in HF_CHECKPOINTS:
        raise ValueError(f"lang={lang!r}: the Gluon chapters have a BERT for {list(HF_CHECKPOINTS)}.")
    if book_mode() == "smoke":
        path = tokenization.sample_korean_sentencepiece() if lang == "ko" else tokenization.sample_english_vocab()
    else:
        from huggingface_hub import hf_hub_download

        checkpoint = HF_CHECKPOINTS[lang]
        try:
            path = hf_hub_download(checkpoint, "spiece.model" if lang == "ko" else "vocab.txt")
        except Exception as error:  # huggingface_hub raises its own error types when offline
            raise model_download_failed(checkpoint, error) from error
    if lang == "ko":
        return _kobert_tokenizer(path, bert_vocab(_sentencepiece_tokens(path)))
    return nlp.data.BERTTokenizer(bert_vocab(_read_vocab_file(path)), lower=True)


# ----------------------------------------------------------------------------- the classifier

class BERTClassifier(gluon.HybridBlock):
    """BERT's pooled [CLS] vector -> dropout -> a dense layer with one output per class."""

    def __init__(self, bert, num_classes=2, dropout=0.1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.num_classes, self.dropout_rate = num_classes, dropout
        self.bert = bert
        units = bert_config(bert)["units"]
        with self.name_scope():
            self.dropout = gluon.nn.Dropout(dropout)  # active only under autograd.record()
            self.classifier = gluon.nn.Dense(num_classes, in_units=units)
        # BERT is already initialised (pretrained or random); only the new layer needs it,
        # on the same contexts as BERT's weights.
        self.classifier.initialize(mx.init.Normal(0.02), ctx=bert.word_embed[0].weight.list_ctx())

    def hybrid_forward(self, F, token_ids, segment_ids, valid_length):
        # token_ids, segment_ids: (B, T); valid_length: (B,) float32
        _, pooled = self.bert(token_ids, segment_ids, valid_length)  # pooled: (B, H)
        return self.classifier(self.dropout(pooled))                  # logits: (B, C)


# ----------------------------------------------------------------------------- batches

def make_loader(samples, batch_size, pad_id, shuffle=False, fixed_len=None, num_buckets=10):
    """Batches ``(token_ids, valid_length, segment_ids, label)`` of ``(token_ids, valid_length,
    segment_ids, label)`` samples, as BERTSentenceTransform gives them plus a label.

    Each batch is padded to its own longest sequence (dynamic padding), or to ``fixed_len``
    when given. ``shuffle=True`` draws batches of similar lengths (FixedBucketSampler).
    """
    if fixed_len is not None:
        longest = max(int(s[1]) for s in samples)
        if longest > fixed_len:
            raise ValueError(f"fixed_len={fixed_len} is shorter than the longest sample "
                             f"({longest} tokens); use fixed_len >= {longest}.")
    # round_to=fixed_len pads a length <= fixed_len up to exactly fixed_len
    batchify = nlp.data.batchify.Tuple(
        nlp.data.batchify.Pad(axis=0, pad_val=pad_id, dtype="int32", round_to=fixed_len),  # (B, T)
        nlp.data.batchify.Stack(dtype="float32"),                                          # (B,)
        nlp.data.batchify.Pad(axis=0, pad_val=0, dtype="int32", round_to=fixed_len),       # (B, T)
        nlp.data.batchify.Stack(dtype="int32"))                                            # (B,)
    dataset = gluon.data.SimpleDataset(list(samples))
    if not shuffle:
        return gluon.data.DataLoader(dataset, batch_size=batch_size, batchify_fn=batchify)
    with warnings.catch_warnings():  # a small data set leaves some buckets empty: harmless
        warnings.filterwarnings("ignore", message="Some buckets are empty")
        sampler = nlp.data.FixedBucketSampler([int(s[1]) for s in samples], batch_size=batch_size,
                                              num_buckets=num_buckets, shuffle=True)
    return gluon.data.DataLoader(dataset, batch_sampler=sampler, batchify_fn=batchify)


def _split(batch, ctxs):
    """Cut a batch into one part per context and move each part there (data parallelism).

    Returns ``[(token_ids, valid_length, segment_ids, labels), ...]``, one tuple per context.
    ``even_split=False``: the parts differ by at most one sample, so any batch size works; a
    batch with fewer samples than contexts uses only as many contexts as it has samples.
    With one context the "part" is the whole batch.
    """
    ctxs = ctxs[:len(batch[0])]
    per_array = [gluon.utils.split_and_load(array, ctxs, even_split=False) for array in batch]
    return list(zip(*per_array))  # per_array[k][c]: array k's part on context c


# ----------------------------------------------------------------------------- training

def _no_weight_decay(param):
    """LayerNorm's gamma/beta and every bias are not decayed (as in BERT's own fine-tuning)."""
    return param.name.endswith(("gamma", "beta", "bias"))


def _snapshot(net):
    # the copies on all contexts are equal (the same gradients, the same updates): keep the first
    return {name: param.data(param.list_ctx()[0]).copy()
            for name, param in net.collect_params().items()}


def _restore(net, snapshot):
    for name, param in net.collect_params().items():
        param.set_data(snapshot[name])  # into the copy on every context


def estimate_epoch_time(net, train_loader, *, epochs=1, steps=3, valid_loader=None,
                        test_loader=None, loss_fn=None, ctx=None, verbose=True):
    """Time a few real training batches of ``net`` and project them to an epoch and a whole run.

    One untimed batch first (memory, graph and shape set-up), then ``steps`` batches of
    ``train_loader`` timed through the forward and backward pass that ``train_loop`` runs,
    hybridized as there, and once more forward only in predict mode, as ``evaluate`` runs
    them. No weight is updated (the optimizer step, once per update, is left out) and the
    gradients are left at zero, so ``net`` trains afterwards exactly as it would have.
    Times scale with padded tokens (batch size x width): seconds per timed token x the
    tokens of a whole epoch (every batch's shape is read from the loader; no model runs).
    Prints the estimate in the book's language (``utils.timing.describe_time_estimate``);
    returns a dict of seconds: 'train_epoch', 'valid_epoch' (one validation pass, per
    epoch), 'test' (one pass over ``test_loader``) and 'total', plus what it rests on.
    """
    if steps < 1:
        raise ValueError(f"steps={steps}: time at least one batch.")
    from utils.timing import describe_time_estimate, project_time

    ctxs = _contexts(ctx)
    if set(net.collect_params().list_ctx()) != set(ctxs):
        net.collect_params().reset_ctx(ctxs)
    loss_fn = loss_fn or gluon.loss.SoftmaxCrossEntropyLoss()
    if isinstance(net, gluon.HybridBlock):
        net.hybridize()  # as train_loop does: time the graph that will train

    def tokens(loader):  # padded tokens of a whole pass: B x T summed over the batches
        return sum(batch[0].shape[0] * batch[0].shape[1] for batch in loader) if loader else 0

    def run(batch, train):
        parts = _split(batch, ctxs)
        if train:
            with autograd.record():
                losses = [loss_fn(net(t, s, v), y) for t, v, s, y in parts]
            autograd.backward(losses)
        else:
            with autograd.pause(train_mode=False):
                [net(t, s, v) for t, v, s, _ in parts]
        mx.nd.waitall()  # MXNet is asynchronous: stop the clock when the work is done

    batches = []
    for batch in train_loader:
        batches.append(batch)
        if len(batches) == steps + 1:
            break
    if len(batches) < 2:
        raise ValueError("estimate_epoch_time needs at least 2 training batches (1 untimed, 1 timed).")
    run(batches[0], train=True)  # untimed: first-call set-up
    run(batches[0], train=False)
    timed = batches[1:]
    train_seconds = eval_seconds = 0.0
    for batch in timed:
        start = time.perf_counter()
        run(batch, train=True)
        train_seconds += time.perf_counter() - start
        start = time.perf_counter()
        run(batch, train=False)
        eval_seconds += time.perf_counter() - start
    for param in net.collect_params().values():
        if param.grad_req != "null":
            param.zero_grad()
    timed_tokens = tokens(timed)
    estimate = {
        "device": "GPU" if ctxs[0].device_type == "gpu" else "CPU", "context": str(ctxs[0]),
        "smoke": book_mode() == "smoke", "epochs": epochs, "batches_timed": len(timed),
        "seconds_per_token_train": train_seconds / timed_tokens,
        "seconds_per_token_eval": eval_seconds / timed_tokens,
        "train_epoch": project_time(train_seconds, timed_tokens, tokens(train_loader)),
        "valid_epoch": project_time(eval_seconds, timed_tokens, tokens(valid_loader)),
        "test": project_time(eval_seconds, timed_tokens, tokens(test_loader)),
    }
    estimate["total"] = epochs * (estimate["train_epoch"] + estimate["valid_epoch"]) + estimate["test"]
    if verbose:
        print(in_book_lang(*describe_time_estimate(estimate)))
    return estimate


def train_loop(net, train_loader, valid_loader, *, epochs=DEFAULTS.epochs, lr=DEFAULTS.lr,
               warmup_ratio=DEFAULTS.warmup_ratio, schedule=DEFAULTS.schedule,
               weight_decay=DEFAULTS.weight_decay, max_grad_norm=DEFAULTS.max_grad_norm,
               accumulation_steps=DEFAULTS.accumulation_steps, patience=DEFAULTS.patience,
               loss_fn=None, ctx=None, checkpoint=None, log_label=None):
    """Fine-tune ``net`` and return its history; ``net`` ends with the best epoch's weights.

    BERTAdam with decoupled weight decay, the learning rate from ``utils.recipe.lr_factor``
    (warmup, then ``schedule``), gradients summed over ``accumulation_steps`` batches per
    update, global-norm clipping, and early stopping on validation accuracy.
    ``loss_fn(logits, labels)`` gives one loss per sample (default: softmax cross-entropy).
    ``checkpoint``: a file to keep the best weights in, instead of memory.
    ``ctx``: one context, or a list for data parallelism: ``net`` gets a copy of its weights
    on each, every batch is split across them, and ``trainer.allreduce_grads()`` sums the
    copies' gradients, so each update is the one a single context would make with the
    whole batch, and the copies stay equal.
    ``log_label`` (e.g. ``"fold 2"``) starts each epoch's line and progress bar.
    """
    if accumulation_steps < 1:
        raise ValueError(f"accumulation_steps={accumulation_steps}: use 1 (no accumulation) or more.")
    if epochs < 1:
        raise ValueError(f"epochs={epochs}: train for at least one epoch.")
    ctxs = _contexts(ctx)
    if set(net.collect_params().list_ctx()) != set(ctxs):  # e.g. built on one GPU, trained on two
        net.collect_params().reset_ctx(ctxs)  # one copy of every weight per context
    loss_fn = loss_fn or gluon.loss.SoftmaxCrossEntropyLoss()
    if isinstance(net, gluon.HybridBlock):
        # One cached graph for every batch. Dynamic padding gives batches of different shapes
        # (B, T); MXNet 1.9 re-infers shapes for a new one, so this works (checked on CPU: about
        # as fast as not hybridizing). Not static_alloc=True: it also works with changing shapes
        # (the same losses, bit for bit), but it keeps one memory plan per context and makes a
        # new one whenever the shape differs from the last batch's, which with bucketing is
        # almost every batch. Measured on 2 CPU cores (36 bucketed NSMC-like batches of 32, a
        # 4-layer 256-unit BERT, the variants interleaved step by step, three runs):
        # static_alloc took 5-21 % longer than plain hybridize(); static_alloc with
        # static_shape was -12 % to +3 %, no steady gain. Not measured on a GPU.
        # A hybridized net needs its inputs on the parameters' context: batches from
        # DataLoader live on cpu_shared; _split moves them.
        net.hybridize()
    params = [p for p in net.collect_params().values() if p.grad_req != "null"]
    for param in params:
        param.grad_req = "add"  # backward() adds into .grad; we zero it after each update
        param.zero_grad()
        if _no_weight_decay(param):
            param.wd_mult = 0.0
    trainer = gluon.Trainer(params, "bertadam", {"learning_rate": lr, "wd": weight_decay},
                            update_on_kvstore=False)
    updates_per_epoch = math.ceil(len(train_loader) / accumulation_steps)
    total_steps = epochs * updates_per_epoch
    warmup_steps = int(warmup_ratio * total_steps)
    history, stopper, best_weights, step = new_history(), EarlyStopping(patience), None, 0

    for epoch in range(1, epochs + 1):
        start = time.time()
        loss_sum, correct, seen, in_grad = 0.0, 0, 0, 0  # in_grad: samples summed into .grad
        prefix = f"{log_label} · " if log_label else ""
        bar = progress(train_loader, desc=f"{prefix}epoch {epoch}/{epochs}", leave=False)
        for i, batch in enumerate(bar):
            parts = _split(batch, ctxs)  # (token_ids, valid_length, segment_ids, labels) per context
            with autograd.record():  # training mode: dropout on
                logits = [net(token_ids, segment_ids, valid_length)        # (B_c, C) per context
                          for token_ids, valid_length, segment_ids, _ in parts]
                losses = [loss_fn(part_logits, labels)                     # (B_c,)
                          for part_logits, (*_, labels) in zip(logits, parts)]
            autograd.backward(losses)  # each context's .grad += gradient of its part's summed loss
            batch_loss = 0.0
            for part_logits, part_losses, (*_, labels) in zip(logits, losses, parts):
                in_grad += len(labels)
                batch_loss += part_losses.sum().asscalar()
                correct += (part_logits.argmax(axis=1) == labels.astype("float32")).sum().asscalar()
                seen += len(labels)
            check_finite_loss(batch_loss, epoch=epoch, batch=i + 1, batches=len(train_loader), lr=lr,
                              label=log_label)
            loss_sum += batch_loss
            if (i + 1) % accumulation_steps == 0 or i + 1 == len(train_loader):
                trainer.set_learning_rate(lr * lr_factor(step, total_steps, warmup_steps, schedule))
                # Sum .grad over the contexts: afterwards every copy holds the gradient of all
                # in_grad samples (with one context there is nothing to sum).
                trainer.allreduce_grads()
                for param in params:
                    for data in param.list_data():
                        # A context that got no sample (a batch smaller than the context list)
                        # ran no backward, so MXNet would call its gradient stale and refuse to
                        # update. It holds the summed gradient now, like the others: mark it fresh
                        # (ignore_stale_grad=True would skip that copy and let the copies drift).
                        data._fresh_grad = True
                    for grad in param.list_grad():  # summed over in_grad samples -> their mean
                        grad /= in_grad
                if max_grad_norm:  # the norm reads one copy per weight: they are equal now
                    nlp.utils.clip_grad_global_norm(params, max_grad_norm)
                trainer.update(1)  # the gradients are means already: no further rescaling
                for param in params:
                    param.zero_grad()
                step, in_grad = step + 1, 0
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", lr=f"{trainer.learning_rate:.2e}")
        bar.close()
        train_seconds = time.time() - start  # training only, as in utils.pytorch

        valid = evaluate(net, valid_loader, loss_fn, ctxs)
        for key, value in (("epoch", epoch), ("train_loss", loss_sum / seen),
                           ("train_acc", correct / seen), ("valid_loss", valid["loss"]),
                           ("valid_acc", valid["accuracy"]), ("lr", trainer.learning_rate),
                           ("seconds", train_seconds)):
            history[key].append(value)
        print(f"{prefix}epoch {epoch}: train loss {loss_sum / seen:.4f} acc {correct / seen:.3f} | "
              f"valid loss {valid['loss']:.4f} acc {valid['accuracy']:.3f} | "
              f"{history['seconds'][-1]:.1f} s")
        if stopper.update(valid["accuracy"], epoch):
            if checkpoint:
                net.save_parameters(str(checkpoint))
            else:
                best_weights = _snapshot(net)
        if stopper.should_stop:
            print(f"early stopping: validation accuracy has not improved for {patience} epochs.")
            break

    if checkpoint:
        net.load_parameters(str(checkpoint), ctx=ctxs)
    else:
        _restore(net, best_weights)
    history["best_epoch"] = stopper.best_epoch
    return history


def evaluate(net, loader, loss_fn=None, ctx=None):
    """Loss and accuracy over every sample of ``loader`` (per-sample means, not batch means)."""
    ctxs = _contexts(ctx)
    loss_fn = loss_fn or gluon.loss.SoftmaxCrossEntropyLoss()
    loss_sum, correct, n = 0.0, 0, 0
    with autograd.pause(train_mode=False):  # no recording, dropout off
        for batch in loader:
            parts = _split(batch, ctxs)
            # every context starts on its part before the first .asscalar() waits for one
            logits = [net(token_ids, segment_ids, valid_length)  # (B_c, C) per context
                      for token_ids, valid_length, segment_ids, _ in parts]
            for part_logits, (*_, labels) in zip(logits, parts):
                loss_sum += loss_fn(part_logits, labels).sum().asscalar()
                correct += (part_logits.argmax(axis=1) == labels.astype("float32")).sum().asscalar()
                n += len(labels)
    if n == 0:
        raise ValueError("evaluate: the loader gave no samples.")
    return {"loss": loss_sum / n, "accuracy": float(correct) / n, "n": n}


# ----------------------------------------------------------------------------- prediction

def _text_probabilities(net, tokenizer, texts, label_names, max_len, batch_size, ctx):
    """Checked texts and label names, and the (texts, num_classes) probabilities, in input order."""
    texts, single = check_texts(texts)
    check_prediction_options(batch_size, max_len)
    label_names = check_label_names(label_names, net.num_classes)
    limit = bert_config(net.bert)["max_length"]
    if max_len > limit:
        raise ValueError(f"max_len={max_len}: this BERT reads 3 to {limit} tokens at a time.")
    if not texts:   # an empty list: an empty answer
        return texts, single, label_names, np.zeros((0, len(label_names)), dtype=np.float32)
    ctxs = _contexts(ctx)
    if not net._active:
        # One graph for every batch: hybridize() keeps shapes dynamic, so each new width is
        # only a new shape, never a new trace. The same probabilities as the eager net (a test
        # checks it). On 2 CPU cores the forward passes took 10-20 % less time (the smoke BERT and
        # a bert-base-sized one); chapter 60 measures it. Once: hybridizing again would throw the
        # built graph away.
        net.hybridize()
    to_ids = nlp.data.BERTSentenceTransform(tokenizer, max_seq_length=max_len, pad=False, pair=False)
    samples = [(*to_ids((text,)), 0) for text in texts]  # longer texts are cut to max_len tokens
    by_length = np.argsort([int(valid_length) for _, valid_length, _, _ in samples], kind="stable")
    pad_id = tokenizer.vocab[tokenizer.vocab.padding_token]
    probabilities = []
    with autograd.pause(train_mode=False):   # neighbours in length share a batch: little padding
        loader = make_loader([samples[i] for i in by_length], batch_size, pad_id)
        for batch in batch_progress(loader, len(loader)):
            logits = [net(token_ids, segment_ids, valid_length)  # (B_c, C), in the batch's order
                      for token_ids, valid_length, segment_ids, _ in _split(batch, ctxs)]
            probabilities += [mx.nd.softmax(x, axis=-1).asnumpy() for x in logits]
    in_input_order = np.empty((len(texts), len(label_names)), dtype=np.float32)
    in_input_order[by_length] = np.concatenate(probabilities)
    return texts, single, label_names, in_input_order  # (texts, num_classes)


def predict_sentiment(net, tokenizer, texts, label_names=("negative", "positive"), max_len=512,
                      batch_size=32, ctx=None):
    """The label name and its probability for one text (a Prediction) or a list of texts.

    Like ``predict`` and ``predict_file``, it hybridizes a ``net`` that is not hybridized yet."""
    texts, single, label_names, probabilities = _text_probabilities(
        net, tokenizer, texts, label_names, max_len, batch_size, ctx)
    predictions = [Prediction(label_names[int(p.argmax())], float(p.max())) for p in probabilities]
    return predictions[0] if single else predictions


def predict(net, tokenizer, texts, label_names, max_len=512, batch_size=32, ctx=None):
    """A table with one row per text: the text, the predicted label and every class's probability,
    as ``utils.pytorch.predict`` gives it. The same input checks as ``predict_sentiment``."""
    texts, _, label_names, probabilities = _text_probabilities(
        net, tokenizer, texts, label_names, max_len, batch_size, ctx)
    return prediction_table(texts, label_names, probabilities)


def predict_file(net, tokenizer, source, target, label_names=("negative", "positive"), max_len=512,
                 batch_size=32, ctx=None, chunk_size=4096):
    """Classify a text file, one text per line, into the CSV ``target``, chunk by chunk, as
    ``utils.pytorch.predict_file`` does (see ``utils.prediction.write_predictions``)."""
    def probabilities_of(texts):
        return _text_probabilities(net, tokenizer, texts, label_names, max_len, batch_size, ctx)[3]
    return write_predictions(probabilities_of, source, target, list(label_names), chunk_size)


# ----------------------------------------------------------------------------- saving

def save_classifier(net, tokenizer, path):
    """Write the classifier to folder ``path``: config.json, vocab.json, model.params, and
    for a SentencePiece tokenizer (KoBERT) its model as spiece.model."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    config = {"bert": bert_config(net.bert), "num_classes": net.num_classes,
              "dropout": net.dropout_rate,
              "lowercase": bool(getattr(tokenizer.basic_tokenizer, "tokenizer", tokenizer.basic_tokenizer).lower)}
    (path / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (path / "vocab.json").write_text(tokenizer.vocab.to_json(), encoding="utf-8")
    if isinstance(tokenizer, nlp.data.BERTSPTokenizer):
        (path / "spiece.model").write_bytes(Path(tokenizer._path).read_bytes())
    net.save_parameters(str(path / "model.params"))
    return path


def load_classifier(path, ctx=None):
    """Rebuild ``(net, tokenizer)`` from a folder written by ``save_classifier``."""
    path = check_classifier_folder(path, "utils.gluon")
    ctx = ctx or mx_context()
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        vocab = nlp.vocab.BERTVocab.from_json((path / "vocab.json").read_text(encoding="utf-8"))
    except ValueError as error:
        raise damaged(path / "config.json or vocab.json", error) from None
    bert = build_bert(config["bert"], len(vocab), ctx)
    net = BERTClassifier(bert, num_classes=config["num_classes"], dropout=config["dropout"])
    try:
        net.load_parameters(str(path / "model.params"), ctx=ctx)
    except mx.base.MXNetError as error:
        raise damaged(path / "model.params", error) from None
    if (path / "spiece.model").is_file():
        return net, _kobert_tokenizer(path / "spiece.model", vocab)
    return net, nlp.data.BERTTokenizer(vocab, lower=config["lowercase"])
