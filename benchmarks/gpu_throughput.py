"""Benchmark 4: BERT-base fine-tuning on a GPU at NSMC lengths, the book's settings vs plain fp32.

- seed: what the seed tutorial runs: fp32, BERT's "eager" attention, every review padded to
  64 tokens, the attention mask built in a Python loop, the default (for-each) AdamW;
- book: ``utils.pytorch.train_loop`` as the chapters run it on a GPU: autocast (bfloat16 on
  compute capability 8+, else float16 with a gradient scaler), scaled-dot-product attention
  (transformers' default), the fused AdamW, length-grouped batches with dynamic padding.
Both train the same randomly initialised BERT-base (speed does not depend on the weights)
with KoBERT's vocabulary size on the same NSMC-like reviews; the measure is samples per
second over one pass, projected to one NSMC epoch of 150,000 reviews.
The small size runs a tiny BERT on the CPU: it only checks that the code runs.
"""
import torch
from transformers import BertConfig, BertModel

from benchmarks.corpus import nsmc_like_corpus
from benchmarks.pytorch_throughput import SEED_MAX_LEN, SeedClassifier, seed_samples, train_book, train_seed
from utils.pytorch import BERTClassifier, encode
from utils.tokenization import KoBertTokenizer, sample_korean_sentencepiece

NSMC_TRAIN_REVIEWS = 150_000
KOBERT_VOCAB = 8002
BERT_BASE = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)
SIZES = {  # reviews, batch size, BERT configuration
    "small": (128, 32, dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)),
    "full": (16_384, 64, BERT_BASE),
}


def run(size="full", seed=0):
    n, batch_size, config = SIZES[size]
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = KoBertTokenizer(sample_korean_sentencepiece())
    texts, labels = nsmc_like_corpus(n, seed)
    token_ids = encode(tokenizer, texts, SEED_MAX_LEN)
    pad = tokenizer.pad_token_id

    def fresh(cls, attention):
        torch.manual_seed(seed)
        bert_config = BertConfig(vocab_size=KOBERT_VOCAB, max_position_embeddings=512,
                                 attn_implementation=attention, **config)
        return cls(BertModel(bert_config), num_classes=2)

    seed_inputs = seed_samples(token_ids, labels, pad)
    warm_up = 4 * batch_size                                           # not timed: kernels, memory pools
    train_seed(fresh(SeedClassifier, "eager"), seed_inputs[:warm_up], batch_size, device)
    train_book(fresh(BERTClassifier, "sdpa"), token_ids[:warm_up], labels, batch_size, pad, device)
    seconds = {"seed": train_seed(fresh(SeedClassifier, "eager"), seed_inputs, batch_size, device),
               "book": train_book(fresh(BERTClassifier, "sdpa"), token_ids, labels, batch_size, pad, device)}
    per_second = {name: n / s for name, s in seconds.items()}
    return {"gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
            "device": str(device), "reviews": n, "batch_size": batch_size, "config": config,
            "torch": torch.__version__, "seconds": seconds, "samples_per_second": per_second,
            "epoch_seconds": {name: NSMC_TRAIN_REVIEWS / s for name, s in per_second.items()},
            "speedup": per_second["book"] / per_second["seed"]}
