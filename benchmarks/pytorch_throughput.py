"""Benchmark 1: fine-tuning throughput in PyTorch, the book's pipeline vs the seed tutorial's.

Both train the same BERT configuration on the same NSMC-like reviews for one epoch; the
measure is real (non-padding) tokens per second of training.
- book: batched tokenisation, length-grouped batches with dynamic padding, and the
  vectorised attention mask of ``utils.pytorch`` (``train_loop``, as the chapters run it);
- seed: every review padded to ``max_len`` 64, the attention mask built in a Python loop,
  the seed tutorial's training step;
- padding-free limit: the book's loop on batches with no padding at all (each batch's
  reviews set to the batch's mean length), i.e. what perfect batching could reach.
"""
import time

import torch
from torch import nn
from torch.utils.data import DataLoader

from benchmarks.corpus import nsmc_like_corpus
from utils.pytorch import BERTClassifier, encode, make_loader, train_loop
from utils.tokenization import KoBertTokenizer, sample_korean_sentencepiece

SEED_MAX_LEN = 64
SIZES = {  # reviews, batch size, BERT configuration
    "small": (192, 32, dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=64)),
    "full": (4096, 64, dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                            intermediate_size=1024)),
}


def gen_attention_mask(token_ids, valid_length):
    """The seed tutorial's mask: one Python iteration per review."""
    attention_mask = torch.zeros_like(token_ids)
    for i, v in enumerate(valid_length):
        attention_mask[i][:v] = 1
    return attention_mask.float()


class SeedClassifier(BERTClassifier):
    """The seed tutorial's forward: fixed-length inputs, the mask from ``gen_attention_mask``."""

    def forward(self, token_ids, valid_length, segment_ids):
        attention_mask = gen_attention_mask(token_ids, valid_length).to(token_ids.device)
        pooled = self.bert(input_ids=token_ids, token_type_ids=segment_ids.long(),
                           attention_mask=attention_mask).pooler_output
        return self.classifier(self.dropout(pooled))


def seed_samples(token_ids, labels, pad_id):
    """Per review, what BERTSentenceTransform(max_seq_length=64, pad=True) gives, and the label.

    ``token_ids`` are already cut to 64 tokens; the seed pads each review to 64 here.
    """
    samples = []
    for ids, label in zip(token_ids, labels):
        padded = torch.tensor(ids + [pad_id] * (SEED_MAX_LEN - len(ids)), dtype=torch.int32)
        samples.append((padded, len(ids), torch.zeros(SEED_MAX_LEN, dtype=torch.int32), label))
    return samples


def train_seed(model, samples, batch_size, device=torch.device("cpu")):
    """The seed tutorial's epoch: AdamW, clipping, a linear warmup schedule, fp32; returns seconds."""
    loader = DataLoader(samples, batch_size=batch_size)
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    loss_fn = nn.CrossEntropyLoss()
    started = time.perf_counter()
    for token_ids, valid_length, segment_ids, label in loader:
        token_ids, segment_ids, label = token_ids.to(device), segment_ids.to(device), label.to(device)
        optimizer.zero_grad()
        out = model(token_ids.long(), valid_length, segment_ids.long())
        loss = loss_fn(out, label.long())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def train_book(model, token_ids, labels, batch_size, pad_id, device=torch.device("cpu")):
    """One epoch of ``train_loop`` on length-grouped, dynamically padded batches; returns seconds.

    On a GPU ``train_loop`` adds mixed precision and the fused AdamW by itself.
    """
    loader = make_loader(token_ids, labels, batch_size, pad_id, shuffle=True)
    valid = make_loader(token_ids[:batch_size], labels[:batch_size], batch_size, pad_id)
    history = train_loop(model, loader, valid, epochs=1, lr=5e-5, warmup_ratio=0.0, device=device)
    return history["seconds"][-1]


def without_padding(token_ids, batch_size):
    """The same reviews in length-sorted batches, every review in a batch cut or repeated to
    the batch's mean length: batches with no padding and about the same real tokens."""
    order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
    out = []
    for start in range(0, len(order), batch_size):
        batch = [token_ids[i] for i in order[start:start + batch_size]]
        width = round(sum(map(len, batch)) / len(batch))
        out += [(ids * width)[:width] for ids in batch]
    return out


def run(size="full", seed=0):
    n, batch_size, config = SIZES[size]
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    tokenizer = KoBertTokenizer(sample_korean_sentencepiece())
    texts, labels = nsmc_like_corpus(n, seed)
    token_ids = encode(tokenizer, texts, SEED_MAX_LEN)
    real_tokens = sum(map(len, token_ids))
    bert_config = BertConfig(vocab_size=len(tokenizer), max_position_embeddings=512, **config)

    def fresh(cls):
        torch.manual_seed(seed)
        return cls(BertModel(bert_config), num_classes=2)

    train_book(fresh(BERTClassifier), token_ids[:2 * batch_size], labels, batch_size,
               tokenizer.pad_token_id)                                     # warm-up, not timed
    seconds = {
        "seed": train_seed(fresh(SeedClassifier), seed_samples(token_ids, labels, tokenizer.pad_token_id),
                           batch_size),
        "book": train_book(fresh(BERTClassifier), token_ids, labels, batch_size, tokenizer.pad_token_id),
        "padding-free limit": train_book(fresh(BERTClassifier), without_padding(token_ids, batch_size),
                                         labels, batch_size, tokenizer.pad_token_id),
    }
    per_second = {name: real_tokens / s for name, s in seconds.items()}
    return {"reviews": n, "batch_size": batch_size, "config": config, "torch_threads": torch.get_num_threads(),
            "real_tokens": real_tokens,
            "mean_tokens": real_tokens / n, "seconds": seconds, "tokens_per_second": per_second,
            "book_vs_seed": per_second["book"] / per_second["seed"],
            "book_share_of_limit": per_second["book"] / per_second["padding-free limit"]}
