"""PyTorch side of the book: a BERT classifier, batching, training, evaluation, prediction.

Every training chapter in PyTorch uses these. They accept any number of classes and any
loss, and they run unchanged in a process of ``torchrun`` with DistributedDataParallel:
the batch sampler shards batches by rank, ``evaluate`` sums counts over all processes,
and only rank 0 draws progress bars.
"""
import contextlib
import copy
import functools
import json
import math
import pickle
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Sampler

from utils.env import book_mode, model_download_failed, progress, torch_device
from utils.tokenization import KoBertTokenizer, TokenIds
from utils.prediction import (Prediction, check_classifier_folder, check_label_names, check_prediction_options,
                              batch_progress, check_texts, damaged, prediction_table,
                              write_predictions)
from utils.recipe import DEFAULTS, SMOKE_BERT, EarlyStopping, check_finite_loss, lr_factor, new_history

MODEL_NAMES = {"en": "bert-base-uncased", "ko": "skt/kobert-base-v1"}


def load_tokenizer(lang="en", model_name=None):
    """The tokenizer ``load_bert`` pairs with the model, without loading the model.

    KoBERT's is ``utils.tokenization.KoBertTokenizer``, any other BERT's the one transformers
    knows for it; smoke mode: one of the same kind trained on the language's bundled sample
    (SentencePiece for KoBERT, WordPiece else).
    """
    from transformers import AutoTokenizer, BertTokenizerFast

    from utils import tokenization

    if lang not in MODEL_NAMES:
        raise ValueError(f"lang={lang!r}: the book has a BERT for {sorted(MODEL_NAMES)}.")
    name = model_name or MODEL_NAMES[lang]
    kobert = name == MODEL_NAMES["ko"]
    if book_mode() == "smoke":
        if kobert:
            return KoBertTokenizer.from_pretrained(tokenization.sample_korean_sentencepiece().parent)
        vocab = tokenization.sample_english_vocab() if lang == "en" else tokenization.sample_multilingual_vocab()
        return BertTokenizerFast.from_pretrained(vocab.parent)
    try:
        return KoBertTokenizer.from_pretrained(name) if kobert else AutoTokenizer.from_pretrained(name)
    except OSError as error:   # transformers' answer to a hub it cannot reach (or a wrong id)
        raise model_download_failed(name, error) from error


def load_bert(lang="en", model_name=None):
    """Return ``(bert, tokenizer)``: a ``transformers.BertModel`` and its tokenizer.

    full mode: the pretrained ``model_name`` (default: bert-base-uncased for "en", KoBERT for
    "ko") and its tokenizer (see ``load_tokenizer``). smoke mode: a tiny random BERT of the
    same architecture, sized to the smoke tokenizer's vocabulary.
    """
    from transformers import BertConfig, BertModel

    tokenizer = load_tokenizer(lang, model_name)
    if book_mode() == "smoke":
        return BertModel(BertConfig(vocab_size=len(tokenizer), **SMOKE_BERT)), tokenizer
    name = model_name or MODEL_NAMES[lang]
    try:
        return BertModel.from_pretrained(name), tokenizer
    except OSError as error:
        raise model_download_failed(name, error) from error


class BERTClassifier(nn.Module):
    """BERT's pooled [CLS] vector -> dropout -> a linear layer giving one logit per class."""

    def __init__(self, bert, num_classes=2, dropout=0.1):
        super().__init__()
        self.bert = bert
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(bert.config.hidden_size, num_classes)

    def pooled_output(self, token_ids, segment_ids, valid_length):
        # attention_mask[b, t] = 1 for the first valid_length[b] tokens: one comparison, no loop
        positions = torch.arange(token_ids.shape[1], device=token_ids.device)   # (seq_len,)
        attention_mask = (positions[None, :] < valid_length[:, None]).long()    # (batch, seq_len)
        out = self.bert(input_ids=token_ids, token_type_ids=segment_ids,
                        attention_mask=attention_mask)
        return out.pooler_output                                                # (batch, hidden)

    def forward(self, token_ids=None, segment_ids=None, valid_length=None, features=None):
        """Logits (batch, num_classes) from token ids, or from precomputed pooled ``features``."""
        if features is None:
            features = self.pooled_output(token_ids, segment_ids, valid_length)
        return self.classifier(self.dropout(features))


def freeze_bert(model):
    """Stop training the BERT body: only the classifier head keeps learning."""
    for param in model.bert.parameters():
        param.requires_grad = False
    return model


# ---------------------------------------------------------------------------- batching

def encode(tokenizer, texts, max_len):
    """Token ids per text (``[CLS] ... [SEP]``), truncated to ``max_len``, not padded, as a ``TokenIds``
    whatever the tokenizer: flat int32 arrays (4 bytes a token instead of about 36 in a list of
    ints); ``token_ids[i]`` is text ``i``'s ids as a list.
    """
    if isinstance(tokenizer, KoBertTokenizer):
        return tokenizer.encode_compact(texts, max_len)
    return TokenIds.from_lists(tokenizer(list(texts), truncation=True, max_length=max_len)["input_ids"])


def pad_batch(samples, pad_id, fixed_len=None):
    """Stack ``(token_ids, label)`` samples, padded to the longest one (or to ``fixed_len``)."""
    lengths = [len(ids) for ids, _ in samples]
    width = fixed_len or max(lengths)
    token_ids = torch.full((len(samples), width), pad_id, dtype=torch.long)  # (batch, width)
    for row, (ids, _) in enumerate(samples):
        token_ids[row, :len(ids)] = torch.tensor(ids)
    return {"token_ids": token_ids,
            "segment_ids": torch.zeros_like(token_ids),  # one sentence per input: segment A
            "valid_length": torch.tensor(lengths),
            "label": torch.tensor([label for _, label in samples])}


def _rank_and_world():
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _progress(iterable, **options):
    """A tqdm bar on rank 0 only (TQDM_DISABLE=1 in the environment turns it off)."""
    if _rank_and_world()[0] != 0:
        options["disable"] = True
    return progress(iterable, **options)


class LengthGroupedBatchSampler(Sampler):
    """Batches of similar-length samples in random order, so little of each batch is padding.

    Shuffles, sorts by length within chunks of ``chunk`` batches, then shuffles the batches.
    Under DistributedDataParallel the batches are global batches of ``batch_size`` samples
    per process, and each process takes its share (every ``world_size``-th sample) of each:
    the processes together see exactly the batches one process with
    ``batch_size * world_size`` would see.
    """

    def __init__(self, lengths, batch_size, shuffle=True, seed=0, chunk=50):
        self.lengths, self.batch_size = list(lengths), batch_size
        self.shuffle, self.seed, self.chunk, self.epoch = shuffle, seed, chunk, 0
        self.rank, self.world_size = _rank_and_world()

    def set_epoch(self, epoch):
        self.epoch = epoch

    def _batches(self):
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        n = len(self.lengths)
        order = torch.randperm(n, generator=generator).tolist() if self.shuffle else list(range(n))
        global_batch = self.batch_size * self.world_size
        span = global_batch * self.chunk
        batches = []
        for start in range(0, n, span):
            block = sorted(order[start:start + span], key=self.lengths.__getitem__)
            batches += [block[i:i + global_batch] for i in range(0, len(block), global_batch)]
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=generator)]
            # training: every process must run every step, so each needs a share of each batch
            batches = [batch for batch in batches if len(batch) >= self.world_size]
        shares = [batch[self.rank::self.world_size] for batch in batches]
        return [share for share in shares if share]

    def __iter__(self):
        return iter(self._batches())

    def __len__(self):
        return len(self._batches())


class _Samples(torch.utils.data.Dataset):
    """``(token_ids[i], labels[i])``, made when a batch asks for it, so compact ids stay compact."""

    def __init__(self, token_ids, labels):
        self.token_ids, self.labels = token_ids, labels

    def __len__(self):
        return min(len(self.token_ids), len(self.labels))   # as zip() would

    def __getitem__(self, index):
        return self.token_ids[index], self.labels[index]


def make_loader(token_ids, labels, batch_size, pad_id, shuffle=False, fixed_len=None, seed=0):
    """A DataLoader of padded batches (dicts). ``shuffle=True`` also groups similar lengths.

    ``fixed_len`` pads every batch to that length instead: only for measuring what
    dynamic padding saves.
    """
    samples = _Samples(token_ids, [int(label) for label in labels])
    if shuffle:
        lengths = (token_ids.lengths().tolist() if isinstance(token_ids, TokenIds)
                   else [len(ids) for ids in token_ids])
        sampler = LengthGroupedBatchSampler(lengths[:len(samples)], batch_size, seed=seed)
    else:
        rank, world_size = _rank_and_world()
        batches = [list(range(i, min(i + batch_size, len(samples))))
                   for i in range(0, len(samples), batch_size)]
        sampler = batches[rank::world_size]
    return DataLoader(samples, batch_sampler=sampler,
                      collate_fn=functools.partial(pad_batch, pad_id=pad_id, fixed_len=fixed_len))


@torch.no_grad()
def extract_features(model, loader, device=None):
    """Run the (frozen) BERT once over a loader; return pooled features and labels on the CPU."""
    device = device or torch_device()
    model.to(device).eval()
    features, labels = [], []
    for batch in _progress(loader, desc="features"):
        inputs = {k: v.to(device) for k, v in batch.items() if k != "label"}
        features.append(model.pooled_output(**inputs).float().cpu())
        labels.append(batch["label"])
    return torch.cat(features), torch.cat(labels)


def make_feature_loader(features, labels, batch_size, shuffle=False, seed=0):
    """Batches ``{"features", "label"}`` of precomputed features, for training the head alone."""
    dataset = list(zip(features, labels))
    sampler = LengthGroupedBatchSampler([1] * len(dataset), batch_size, shuffle=shuffle, seed=seed)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=_stack_features)


def _stack_features(batch):
    return {"features": torch.stack([f for f, _ in batch]), "label": torch.stack([y for _, y in batch])}


# ---------------------------------------------------------------------------- training

def _unwrap(model):
    return getattr(model, "module", model)  # DistributedDataParallel keeps the model in .module


def parameter_groups(model, lr, head_lr=None, weight_decay=0.01):
    """AdamW groups: BERT body at ``lr``, head at ``head_lr``; no weight decay on biases and LayerNorm."""
    groups = {}
    for name, param in _unwrap(model).named_parameters():
        if not param.requires_grad:
            continue
        part = "body" if name.startswith("bert.") else "head"
        no_decay = name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name
        key = (part, no_decay)
        groups.setdefault(key, {"params": [], "lr": lr if part == "body" else (head_lr or lr),
                                "weight_decay": 0.0 if no_decay else weight_decay, "name": key})
        groups[key]["params"].append(param)
    return list(groups.values())


def _on_device(loss_fn, device):
    """A loss module's class weights (CrossEntropyLoss ``weight``, FocalLoss ``alpha``) move with the model."""
    return loss_fn.to(device) if isinstance(loss_fn, nn.Module) else loss_fn


def amp_dtype(device):
    """The 16-bit type of mixed precision on ``device``: bfloat16 where the hardware computes it
    (CPUs, GPUs of compute capability 8+: A100, H100, L4, ...), float16 on older GPUs such as
    Colab's T4, which then need a gradient scaler."""
    if device.type == "cuda" and torch.cuda.get_device_capability(device)[0] < 8:
        return torch.float16
    return torch.bfloat16


def _autocast(device, amp):
    return torch.autocast(device.type, dtype=amp_dtype(device), enabled=amp)


def _sum_over_processes(totals):
    """A tensor of counts summed over every process of a DDP run (one process: as it is), as numbers."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(totals)
    return totals.tolist()


def _step_inputs(batch, device):
    return {k: v.to(device, non_blocking=True) for k, v in batch.items() if k != "label"}


def train_loop(model, train_loader, valid_loader, *, epochs=DEFAULTS.epochs, lr=DEFAULTS.lr,
               head_lr=DEFAULTS.head_lr, weight_decay=DEFAULTS.weight_decay,
               warmup_ratio=DEFAULTS.warmup_ratio, schedule=DEFAULTS.schedule,
               max_grad_norm=DEFAULTS.max_grad_norm, accumulation_steps=DEFAULTS.accumulation_steps,
               patience=DEFAULTS.patience, loss_fn=None, device=None, amp=None,
               checkpoint=None, optimizer=None, save_state=None, resume_from=None, stop_after=None,
               log_label=None):
    """Train ``model`` and return its history (per-epoch losses, accuracies, lr, training seconds).

    AdamW (or the given ``optimizer``; fused into one kernel on a GPU), warmup then ``schedule``
    decay, gradient clipping at ``max_grad_norm``, ``accumulation_steps`` batches per update,
    mixed precision on a GPU (``amp``: bfloat16, or float16 with a gradient scaler on GPUs
    older than compute capability 8), early stopping after ``patience`` epochs without a
    better validation accuracy. Under DistributedDataParallel the epoch's training loss and
    accuracy are summed over all processes.
    The best epoch's weights are restored at the end (and saved to ``checkpoint`` if given:
    weights only, a ``state_dict`` for inference).

    ``save_state``: a file that receives the full training state after every epoch (model,
    optimizer, scheduler, gradient scaler, epoch, history, early stopping, best weights and
    the torch / CUDA / numpy / Python random states). ``resume_from``: such a file; training
    goes on after its epoch and ends as the uninterrupted run would have (same settings and
    data, on the same kind of device). ``stop_after``: end this call after that epoch, e.g. to
    continue in a later session; the schedule still spans ``epochs``. ``log_label`` (e.g.
    ``"fold 2"``) starts each epoch's line and progress bar, to tell runs apart in one output.
    """
    device = device or torch_device()
    amp = device.type == "cuda" if amp is None else amp
    loss_fn = _on_device(loss_fn or nn.CrossEntropyLoss(), device)
    model.to(device)
    optimizer = optimizer or torch.optim.AdamW(parameter_groups(model, lr, head_lr, weight_decay),
                                               fused=device.type == "cuda")
    updates_per_epoch = math.ceil(len(train_loader) / accumulation_steps)
    total_updates = epochs * updates_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, total_updates, int(warmup_ratio * total_updates), schedule))
    scaler = torch.amp.GradScaler(device.type, enabled=amp and amp_dtype(device) == torch.float16)
    is_main = _rank_and_world()[0] == 0
    history, stopper, best_state = new_history(), EarlyStopping(patience, mode="max"), None
    settings = {"epochs": epochs, "accumulation_steps": accumulation_steps,
                "train_batches": len(train_loader), "schedule": schedule, "warmup_ratio": warmup_ratio}
    first_epoch = 1
    if resume_from:
        state = _read_training_state(resume_from, settings)
        _unwrap(model).load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        history, best_state = state["history"], state["best_state"]
        vars(stopper).update(state["early_stopping"])
        set_random_states(state["random"])
        first_epoch = epochs + 1 if stopper.should_stop else state["epoch"] + 1
        if is_main:
            print(f"resumed from {resume_from}: epoch {state['epoch']} of {epochs} done")

    for epoch in range(first_epoch, epochs + 1):
        if hasattr(train_loader.batch_sampler, "set_epoch"):
            train_loader.batch_sampler.set_epoch(epoch)
        model.train()
        started, loss_sum, correct, seen = time.perf_counter(), 0.0, 0, 0
        n_batches = len(train_loader)
        prefix = f"{log_label} · " if log_label else ""
        bar = _progress(train_loader, desc=f"{prefix}epoch {epoch}/{epochs}", leave=False)
        for i, batch in enumerate(bar):
            labels = batch["label"].to(device)
            group_start = i - i % accumulation_steps
            group_size = min(accumulation_steps, n_batches - group_start)  # the last group may be short
            update_now = i + 1 == group_start + group_size
            sync = contextlib.nullcontext() if update_now or not hasattr(model, "no_sync") else model.no_sync()
            with sync:
                with _autocast(device, amp):
                    logits = model(**_step_inputs(batch, device))
                    loss = loss_fn(logits.float(), labels)
                loss_value = loss.item()
                check_finite_loss(loss_value, epoch=epoch, batch=i + 1, batches=n_batches, lr=lr, label=log_label)
                scaler.scale(loss / group_size).backward()
            if update_now:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)
                scheduler.step()
            loss_sum += loss_value * len(labels)
            correct += (logits.argmax(-1) == labels).sum().item()
            seen += len(labels)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.3f}")

        train_seconds = time.perf_counter() - started
        loss_sum, correct, seen = _sum_over_processes(
            torch.tensor([loss_sum, correct, seen], dtype=torch.float64, device=device))
        valid = evaluate(model, valid_loader, loss_fn, device, amp)
        for key, value in (("epoch", epoch), ("train_loss", loss_sum / seen),
                           ("train_acc", correct / seen), ("valid_loss", valid["loss"]),
                           ("valid_acc", valid["accuracy"]), ("lr", scheduler.get_last_lr()[0]),
                           ("seconds", train_seconds)):
            history[key].append(value)
        if stopper.update(valid["accuracy"], epoch):
            best_state = copy.deepcopy({k: v.cpu() for k, v in _unwrap(model).state_dict().items()})
            history["best_epoch"] = epoch
            if checkpoint and is_main:
                torch.save(best_state, checkpoint)
        if is_main:
            print(f"{prefix}epoch {epoch}: train loss {loss_sum / seen:.4f} acc {correct / seen:.4f} | "
                  f"valid loss {valid['loss']:.4f} acc {valid['accuracy']:.4f} | "
                  f"{history['seconds'][-1]:.1f}s")
        if save_state and is_main:
            _write_training_state(save_state, {
                "epoch": epoch, "settings": settings, "model": _unwrap(model).state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(), "history": history, "best_state": best_state,
                "early_stopping": {k: getattr(stopper, k) for k in ("best", "best_epoch", "bad_epochs")}, "random": random_states()})
        if stopper.should_stop:
            if is_main:
                print(f"early stopping: no better validation accuracy for {patience} epochs; "
                      f"keeping epoch {stopper.best_epoch}")
            break
        if stop_after is not None and epoch >= stop_after and epoch < epochs:
            if is_main:
                print(f"stopping after epoch {epoch} of {epochs}" +
                      (f"; resume with resume_from={str(save_state)!r}" if save_state else ""))
            break
    _unwrap(model).load_state_dict(best_state)
    return history


def random_states():
    """Every random state training draws from: torch (CPU and CUDA), numpy and Python.

    Tensors and plain numbers only, so ``torch.load(..., weights_only=True)`` reads them back.
    """
    import random

    import numpy as np

    kind, keys, position, has_gauss, cached = np.random.get_state()
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": [kind, torch.from_numpy(keys.astype("int64")), position, has_gauss, cached],
            "python": random.getstate()}


def set_random_states(states):
    """Restore what ``random_states`` returned."""
    import random

    import numpy as np

    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    kind, keys, position, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype("uint32"), position, has_gauss, cached))
    random.setstate(states["python"])


def _write_training_state(path, state):
    """Save ``state`` to a temporary file first, so an interrupted save never spoils the last good one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    torch.save(state, partial)
    partial.replace(path)


def _load_torch_file(path, **options):
    """``torch.load`` onto the CPU; a file cut off while saving is a clear error naming it."""
    try:
        return torch.load(path, map_location="cpu", **options)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as error:
        raise damaged(path, error) from None


def _read_training_state(path, settings):
    if not Path(path).is_file():
        raise FileNotFoundError(f"resume_from={str(path)!r}: no such file. It is written by "
                                f"train_loop(..., save_state=that_path).")
    state = _load_torch_file(path, weights_only=True)
    changed = {k: (state["settings"].get(k), v) for k, v in settings.items() if state["settings"].get(k) != v}
    if changed:
        details = ", ".join(f"{k}: saved {old!r}, now {new!r}" for k, (old, new) in changed.items())
        raise ValueError(f"{path} was saved by a run with other settings ({details}). Resume with "
                         f"the same settings and data, or start a new run without resume_from.")
    return state


@torch.no_grad()
def evaluate(model, loader, loss_fn=None, device=None, amp=None):
    """Loss and accuracy over every sample of ``loader`` (weighted by samples, all processes)."""
    device = device or torch_device()
    amp = device.type == "cuda" if amp is None else amp
    loss_fn = _on_device(loss_fn or nn.CrossEntropyLoss(), device)
    model = _unwrap(model).to(device).eval()  # no DDP needed: the counts are summed below
    totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, correct, samples
    for batch in loader:
        labels = batch["label"].to(device)
        with _autocast(device, amp):
            logits = model(**_step_inputs(batch, device)).float()
        totals += torch.stack([loss_fn(logits, labels).double() * len(labels),
                               (logits.argmax(-1) == labels).sum().double(),
                               torch.tensor(len(labels), dtype=torch.float64, device=device)])
    loss_sum, correct, n = _sum_over_processes(totals)
    if n == 0:
        raise ValueError("evaluate() got an empty loader: there is nothing to evaluate.")
    return {"loss": loss_sum / n, "accuracy": correct / n, "n": int(n)}


# ---------------------------------------------------------------------------- using a model

@torch.no_grad()
def predict_logits(model, loader, device=None, amp=None):
    """``(logits, labels)`` over every batch of ``loader``, on the CPU in float32, in the loader's order.

    ``logits`` is (samples, num_classes): what calibration (dividing by a temperature) starts from.
    One process; under DistributedDataParallel use ``evaluate``, which sums over processes.
    """
    device = device or torch_device()
    amp = device.type == "cuda" if amp is None else amp
    model = _unwrap(model).to(device).eval()
    logits, labels = [], []
    for batch in loader:
        with _autocast(device, amp):
            logits.append(model(**_step_inputs(batch, device)).float().cpu())
        labels.append(batch["label"])
    return torch.cat(logits), torch.cat(labels)


def predict_probabilities(model, loader, device=None, amp=None):
    """``(probabilities, labels)``: ``predict_logits`` after a softmax, each row summing to 1:
    what classification reports, confusion matrices and ensembles (averaging several models'
    rows) start from."""
    logits, labels = predict_logits(model, loader, device, amp)
    return logits.softmax(-1), labels


def _text_probabilities(model, tokenizer, texts, label_names, max_len, batch_size, device):
    """Checked texts and label names, and the (texts, num_classes) probabilities; eval mode, no gradients."""
    texts, single = check_texts(texts)
    check_prediction_options(batch_size, max_len)
    model = _unwrap(model)
    label_names = check_label_names(label_names, model.classifier.out_features)
    if not texts:   # an empty list: an empty answer
        return texts, single, label_names, torch.empty(0, len(label_names))
    max_len = min(max_len, model.bert.config.max_position_embeddings)
    device = device or next(model.parameters(), torch.empty(0)).device   # no parameters: a compiled graph, on the CPU
    token_ids = encode(tokenizer, texts, max_len)                  # every text at once: 4 bytes a token
    by_length = np.argsort(token_ids.lengths(), kind="stable")     # neighbours in length share a batch,
    probabilities = torch.empty(len(texts), len(label_names))      # so batches carry little padding
    was_training = model.training
    model.eval()
    starts = range(0, len(texts), batch_size)
    with torch.inference_mode():
        for start in batch_progress(starts, len(starts)):
            rows = by_length[start:start + batch_size]
            batch = pad_batch([(token_ids[i], 0) for i in rows], tokenizer.pad_token_id)
            probabilities[torch.from_numpy(rows)] = model(**_step_inputs(batch, device)).float().softmax(-1).cpu()
    model.train(was_training)
    return texts, single, label_names, probabilities   # (texts, num_classes), in the input order


def predict_sentiment(model, tokenizer, texts, label_names=("negative", "positive"), max_len=512,
                      batch_size=32, device=None):
    """Classify one text (-> ``Prediction``) or a list of texts (-> list of ``Prediction``).

    Texts longer than ``max_len`` tokens are truncated. Runs in eval mode without gradients.
    """
    texts, single, label_names, probabilities = _text_probabilities(
        model, tokenizer, texts, label_names, max_len, batch_size, device)
    best_prob, best = probabilities.max(-1)
    predictions = [Prediction(label_names[k], p) for k, p in zip(best.tolist(), best_prob.tolist())]
    return predictions[0] if single else predictions


def predict(model, tokenizer, texts, label_names, max_len=512, batch_size=32, device=None):
    """A table with one row per text: the text, the predicted label and every class's probability.

    The probability columns are named after ``label_names`` and hold values in [0, 1]
    (``table.style.format("{:.1%}", subset=label_names)`` shows them as percentages).
    The same input checks as ``predict_sentiment``.
    """
    texts, _, label_names, probabilities = _text_probabilities(
        model, tokenizer, texts, label_names, max_len, batch_size, device)
    return prediction_table(texts, label_names, probabilities.numpy())


def predict_file(model, tokenizer, source, target, label_names=("negative", "positive"), max_len=512,
                 batch_size=32, device=None, chunk_size=4096):
    """Classify a text file, one text per line, into the CSV ``target`` (line, label, one probability
    column per class), chunk by chunk with a progress bar: memory stays flat for any number of lines.
    See ``utils.prediction.write_predictions``."""
    def probabilities_of(texts):
        return _text_probabilities(model, tokenizer, texts, label_names, max_len, batch_size, device)[3].numpy()
    return write_predictions(probabilities_of, source, target, list(label_names), chunk_size)


def save_classifier(model, tokenizer, path):
    """Save the classifier (BERT config, all weights, head settings) and its tokenizer in ``path``."""
    model, path = _unwrap(model), Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.bert.config.save_pretrained(path)
    tokenizer.save_pretrained(path / "tokenizer")
    head = {"num_classes": model.classifier.out_features, "dropout": model.dropout.p}
    (path / "classifier.json").write_text(json.dumps(head))
    torch.save(model.state_dict(), path / "classifier.pt")
    return path


def load_classifier(path, device=None):
    """Load what ``save_classifier`` wrote; return ``(model, tokenizer)`` in eval mode."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    path = check_classifier_folder(path, "utils.pytorch")
    try:
        head = json.loads((path / "classifier.json").read_text())
    except ValueError as error:
        raise damaged(path / "classifier.json", error) from None
    model = BERTClassifier(BertModel(BertConfig.from_pretrained(path)), **head)
    model.load_state_dict(_load_torch_file(path / "classifier.pt"))
    tokenizer_config = json.loads((path / "tokenizer" / "tokenizer_config.json").read_text())
    if tokenizer_config.get("tokenizer_class") == "KoBertTokenizer":
        tokenizer = KoBertTokenizer.from_pretrained(path / "tokenizer")
    else:
        tokenizer = AutoTokenizer.from_pretrained(path / "tokenizer")
    return model.to(device or torch_device()).eval(), tokenizer
