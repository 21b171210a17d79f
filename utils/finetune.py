"""Fine-tune a BERT sentiment classifier from the command line (PyTorch).

    python -m utils.finetune --train train.tsv --valid valid.tsv --save my-model
    torchrun --nproc_per_node=4 -m utils.finetune --train train.tsv ...   # 4 processes (DDP)

The same code as the IMDB chapter, for workshops and servers. ``--help`` lists every
option. BOOK_MODE=smoke runs it on a tiny random BERT in seconds (for testing a setup);
TQDM_DISABLE=1 turns the progress bars off (for log files).

Under ``torchrun`` every process trains a copy of the model on its share of each batch
(DistributedDataParallel: NCCL on GPUs, one per process; gloo on CPUs); ``--batch-size``
is per process, so the global batch is batch size x processes x accumulation steps.
Only the first process (rank 0) prints, draws progress bars and saves.
"""
import argparse
import json
import math
import os
import shutil
import signal
import sys
from pathlib import Path

import pandas as pd

from utils.data import read_rows
from utils.env import book_mode, in_book_lang, not_a_result, set_seed, torch_device
from utils.recipe import DEFAULTS, SCHEDULES


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show a default only where there is one worth showing."""

    def _get_help_string(self, action):
        if action.default in (None, False) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def build_parser():
    p = argparse.ArgumentParser(
        prog="python -m utils.finetune",
        description="Fine-tune BERT (transformers, PyTorch) as a text classifier on a TSV or CSV file "
                    "and save it for utils.pytorch.load_classifier.",
        formatter_class=_HelpFormatter)
    data = p.add_argument_group("data")
    data.add_argument("--train", required=True, type=Path,
                      help="training file: .tsv/.txt (tab-separated, quotes are plain text, as in NSMC) "
                           "or .csv (comma-separated, standard quoting), with a header line")
    data.add_argument("--valid", type=Path,
                      help="validation file in the same format; without it 10%% of --train is held out")
    data.add_argument("--text-column", default="text", help="column holding the text")
    data.add_argument("--label-column", default="label",
                      help="column holding the label: integers 0..K-1 or names (sorted to get ids)")
    data.add_argument("--label-names",
                      help="comma-separated names for integer labels 0..K-1, e.g. negative,positive")
    model = p.add_argument_group("model")
    model.add_argument("--model-name", default="bert-base-uncased",
                       help="Hugging Face BERT checkpoint to start from; skt/kobert-base-v1 (KoBERT) "
                            "for Korean text such as NSMC. Smoke mode uses a tiny random BERT with a "
                            "tokenizer of the same kind (SentencePiece for KoBERT, else WordPiece)")
    model.add_argument("--max-length", type=int, default=128,
                       help="tokens per text including [CLS] and [SEP]; longer texts are truncated "
                            "(cost grows faster than linearly; BERT's limit is 512)")
    model.add_argument("--dropout", type=float, default=0.1,
                       help="dropout on the pooled [CLS] vector before the classifier")
    model.add_argument("--bert-dropout", type=float,
                       help="dropout inside BERT (embeddings, attention, hidden layers); by default "
                            "the checkpoint's own (0.1 for BERT). 0 makes training deterministic "
                            "given the data order")
    model.add_argument("--frozen", action="store_true",
                       help="keep BERT's weights fixed and train only the classifier head "
                            "(fast, usually clearly less accurate than fine-tuning)")
    model.add_argument("--precompute-features", action="store_true",
                       help="with --frozen: run BERT once over the data and train the head on the "
                            "stored [CLS] vectors (much faster; dropout then acts on fixed features)")
    train = p.add_argument_group("training")
    train.add_argument("--epochs", type=int, default=DEFAULTS.epochs,
                       help="maximum number of passes over --train")
    train.add_argument("--batch-size", type=int, default=32,
                       help="texts per batch and process (under torchrun the global batch is this "
                            "x the number of processes)")
    train.add_argument("--accumulation-steps", type=int, default=DEFAULTS.accumulation_steps,
                       help="batches whose gradients are summed before one update "
                            "(effective batch = batch size x this)")
    train.add_argument("--lr", type=float, default=DEFAULTS.lr, help="peak learning rate of the BERT body")
    train.add_argument("--head-lr", type=float,
                       help="peak learning rate of the classifier head; the same as --lr if not "
                            "given (with --frozen try 1e-3)")
    train.add_argument("--weight-decay", type=float, default=DEFAULTS.weight_decay,
                       help="AdamW weight decay (never on biases and LayerNorm)")
    train.add_argument("--warmup-ratio", type=float, default=DEFAULTS.warmup_ratio,
                       help="share of the updates spent warming the learning rate up from 0")
    train.add_argument("--schedule", choices=SCHEDULES, default=DEFAULTS.schedule,
                       help="how the learning rate decays after warmup")
    train.add_argument("--max-grad-norm", type=float, default=DEFAULTS.max_grad_norm,
                       help="gradient clipping norm")
    train.add_argument("--patience", type=int,
                       help="stop after this many epochs without a better validation accuracy "
                            "(by default training never stops early)")
    train.add_argument("--seed", type=int, default=42, help="random seed")
    p.add_argument("--save", type=Path, default=Path("finetuned-bert"),
                   help="folder for the model, tokenizer, training.json and history.png; it must not "
                        "exist yet, or hold an earlier run of this command and --overwrite be given")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the earlier run in --save (only once the new one is complete)")
    p.add_argument("--save-state",
                   type=Path, help="file for the full training state after every epoch, to continue "
                                   "with --resume after an interruption (default: a file next to "
                                   "--save, removed once the run is saved)")
    p.add_argument("--resume", type=Path,
                   help="a --save-state file: continue that run after its last finished epoch "
                        "(same data and options)")
    return p


MAX_POSITIONS = 512   # BERT's position embeddings; --max-length cannot exceed it


def check_options(args, parser):
    """Refuse options that cannot work before any file or model is read (argparse's one-line error)."""
    for name in ("epochs", "batch_size", "accumulation_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} {getattr(args, name)}: it must be 1 or more.")
    if args.patience is not None and args.patience < 1:
        parser.error(f"--patience {args.patience}: it must be 1 or more (leave it out to never stop early).")
    for name in ("lr", "head_lr", "max_grad_norm"):
        value = getattr(args, name)
        if value is not None and not (math.isfinite(value) and value > 0):
            parser.error(f"--{name.replace('_', '-')} {value}: it must be a number above 0.")
    for name in ("dropout", "bert_dropout"):
        value = getattr(args, name)
        if value is not None and not 0 <= value < 1:
            parser.error(f"--{name.replace('_', '-')} {value}: a dropout probability must be in [0, 1).")
    if not 0 <= args.warmup_ratio <= 1:
        parser.error(f"--warmup-ratio {args.warmup_ratio}: it is a share of the updates, in [0, 1].")
    if args.weight_decay < 0:
        parser.error(f"--weight-decay {args.weight_decay}: it must be 0 or more.")
    if not 3 <= args.max_length <= MAX_POSITIONS:
        parser.error(f"--max-length {args.max_length}: it must be between 3 ([CLS], one token, [SEP]) "
                     f"and {MAX_POSITIONS}, BERT's number of positions.")
    if args.resume is not None and not args.resume.is_file():
        parser.error(f"--resume {args.resume}: there is no such file. Give the --save-state file of the "
                     f"interrupted run.")
    check_save_folder(args.save, args.overwrite, parser.error)


RUN_MARKER = "training.json"   # every run this command saves has it
VALID_SHARE = 0.1              # of --train held out for validation when there is no --valid


def folder_holds(save):
    """What is in the ``--save`` folder: "nothing" (missing or empty), "a run" of this command, or "other files"."""
    if not (save.is_dir() and any(save.iterdir())):
        return "nothing"
    return "a run" if (save / RUN_MARKER).is_file() else "other files"


def check_save_folder(save, overwrite, error):
    """``--save`` must be new, or an earlier run of this command with ``--overwrite``; and writable."""
    if save.exists() and not save.is_dir():
        error(f"--save {save}: it is a file. Give a folder for the model.")
    held = folder_holds(save)
    if held == "other files":
        error(f"--save {save}: the folder holds other files, not a run of this command "
              f"(no {RUN_MARKER}); it is left alone. Choose a new folder.")
    if held == "a run" and not overwrite:
        error(f"--save {save}: it holds an earlier run. Add --overwrite to replace it once the "
              f"new run is complete, or choose a new folder.")
    parent = save.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        error(f"--save {save}: {parent} is not writable. Choose a folder you can write to.")


TSV_ROW_HINT = ("A text with a tab or line break inside breaks a TSV row: replace those characters "
                "with spaces, or write the file as .csv.")


def read_table(path, text_column, label_column, log=print):
    """Read a TSV/CSV file into columns text, label (raw values); drop and count empty texts."""
    csv_file = path.suffix.lower() == ".csv"
    try:
        header, rows = read_rows(path, "data file", "Give the path of a .tsv, .txt or .csv file.",
                                 sep="," if csv_file else "\t", quoted=csv_file)
    except (OSError, ValueError) as error:
        broken_row = "fields" in str(error) and not csv_file
        raise SystemExit(f"error: {error}" + (f" {TSV_ROW_HINT}" if broken_row else "")) from None
    table = pd.DataFrame([fields for _, fields in rows], columns=header, dtype=str)
    for column, option in ((text_column, "--text-column"), (label_column, "--label-column")):
        if column not in table.columns:
            raise SystemExit(f"error: {path} has no column {column!r} (its columns: "
                             f"{list(table.columns)}). Name the right one with {option}.")
    table = table.rename(columns={text_column: "text", label_column: "label"})[["text", "label"]]
    table["label"] = table["label"].str.strip()   # "1 " and "1" are one class, as read_nsmc reads them
    no_label = table.index[table["label"] == ""]
    if len(no_label):
        lines = ", ".join(str(rows[i][0]) for i in no_label[:5])
        raise SystemExit(f"error: {path} has {len(no_label)} rows without a label (lines {lines}...). "
                         f"{TSV_ROW_HINT}")
    empty = table["text"].str.strip() == ""
    if empty.any():
        log(f"{path}: dropped {int(empty.sum())} rows with an empty text")
    return table[~empty].reset_index(drop=True)


def check_classes(labels, path, held_out):
    """At least two classes, and when ``held_out`` (a share of the file goes to validation) enough
    examples of each for a stratified split."""
    counts = labels.value_counts().sort_index()
    listed = ", ".join(f"{label!r}: {n}" for label, n in counts.items()) or "no rows"
    if len(counts) < 2:
        raise SystemExit(f"error: {path} has fewer than two classes ({listed}); a classifier needs "
                         f"examples of at least two. Check --label-column and the file.")
    if held_out and (counts.min() < 2 or len(labels) * held_out < len(counts)):
        needed = max(2 * len(counts), math.ceil(len(counts) / held_out))
        raise SystemExit(f"error: {path} is too small to hold out {held_out:.0%} for validation with every "
                         f"class in both parts ({listed}): that needs at least 2 examples per class and "
                         f"{needed} rows in all. Add rows, or give a validation file with --valid.")


def label_ids(train_labels, valid_labels, label_names):
    """Map raw labels to ids 0..K-1; return (train_ids, valid_ids, names)."""
    values = sorted(set(train_labels))
    integers = all(v.lstrip("-").isdigit() for v in values)
    if label_names and not integers:
        raise SystemExit(f"error: --label-names names integer labels 0..K-1, but the labels are already "
                         f"names ({values}); leave --label-names out.")
    if integers:
        ids = sorted(int(v) for v in values)
        if ids != list(range(len(ids))):
            raise SystemExit(f"error: integer labels must be 0..K-1, found {ids}.")
        names = label_names.split(",") if label_names else (
            ["negative", "positive"] if len(ids) == 2 else [str(i) for i in ids])
        if len(names) != len(ids):
            raise SystemExit(f"error: --label-names gives {len(names)} names for {len(ids)} labels.")
        mapping = {str(i): i for i in ids}
    else:
        names, mapping = values, {v: i for i, v in enumerate(values)}
    unknown = sorted(set(valid_labels) - set(mapping))
    if unknown:
        raise SystemExit(f"error: the validation file has labels {unknown} that --train does not have.")
    return [mapping[v] for v in train_labels], [mapping[v] for v in valid_labels], names


def move_into_place(partial, save, overwrite):
    """Rename the complete run ``partial`` to ``save``. An earlier run there is replaced only with
    ``overwrite`` and stays loadable until the new one is in place; a run that appeared in ``save``
    while this one trained is never lost."""
    def refuse(message):
        raise SystemExit(f"error: {message} This run is kept in {partial}; rename it yourself.")
    held = folder_holds(save)
    if held == "other files":
        refuse(f"{save} now holds files that are not a run of this command.")
    if held == "a run":
        if not overwrite:
            refuse(f"another run was saved to {save} while this one trained.")
        previous = save.with_name(f".{save.name}.previous-{os.getpid()}")
        save.rename(previous)          # a kill from here on leaves both runs loadable
        partial.rename(save)
        shutil.rmtree(previous)
    else:
        if save.exists():
            save.rmdir()               # an empty folder
        partial.rename(save)


def start_processes():
    """``(rank, world_size, device)``; under torchrun, join the other processes first.

    torchrun starts one process per GPU (or per CPU worker) and tells each its RANK,
    LOCAL_RANK (its GPU on this machine) and WORLD_SIZE in the environment.
    """
    import torch
    import torch.distributed as dist

    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return 0, 1, torch_device()
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), world_size, device


def largest_difference_between_processes(model):
    """The largest difference between any process's weights and rank 0's (0 when DDP works)."""
    import torch
    import torch.distributed as dist

    largest = torch.zeros((), device=next(model.parameters()).device)
    for param in model.parameters():       # one tensor at a time: no second copy of the model
        rank0 = param.detach().clone()
        dist.broadcast(rank0, src=0)
        largest = torch.maximum(largest, (param.detach() - rank0).abs().max())
    dist.all_reduce(largest, op=dist.ReduceOp.MAX)
    return largest.item()


def set_bert_dropout(bert, p):
    """Set every dropout inside BERT (transformers' attention reads its Dropout's ``p`` too)."""
    import torch

    for module in bert.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = p
    bert.config.hidden_dropout_prob = bert.config.attention_probs_dropout_prob = p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    check_options(args, parser)
    if args.precompute_features and not args.frozen:
        raise SystemExit("error: --precompute-features needs --frozen (fine-tuning changes the features).")
    if args.precompute_features and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise SystemExit("error: --precompute-features runs in one process (BERT runs once over the "
                         "data; training the head is then fast). Start it without torchrun.")
    import torch
    from sklearn.model_selection import train_test_split
    from torch.nn.parallel import DistributedDataParallel

    from utils import pytorch as ut
    from utils.plots import plot_history, use_korean_font

    rank, world_size, device = start_processes()
    log = print if rank == 0 else (lambda *_: None)
    set_seed(args.seed)  # the same data split and initial weights in every process
    train = read_table(args.train, args.text_column, args.label_column, log)
    check_classes(train["label"], args.train, held_out=None if args.valid else VALID_SHARE)
    if args.valid:
        valid = read_table(args.valid, args.text_column, args.label_column, log)
    else:
        train, valid = train_test_split(train, test_size=VALID_SHARE, random_state=args.seed,
                                        stratify=train["label"])
    train_y, valid_y, names = label_ids(list(train["label"]), list(valid["label"]), args.label_names)
    mode = book_mode()
    global_batch = args.batch_size * world_size * args.accumulation_steps
    log(f"{mode} mode | train {len(train)} | valid {len(valid)} | labels {names} | device {device}"
        + (f" | {world_size} processes, global batch {global_batch}" if world_size > 1 else ""))

    bert, tokenizer = ut.load_bert("en", model_name=args.model_name)
    if args.bert_dropout is not None:
        set_bert_dropout(bert, args.bert_dropout)
    model = ut.BERTClassifier(bert, num_classes=len(names), dropout=args.dropout)
    if args.frozen:
        ut.freeze_bert(model)
    if world_size > 1:
        model = DistributedDataParallel(model.to(device),
                                        device_ids=[device.index] if device.type == "cuda" else None)
        torch.manual_seed(args.seed + rank)  # same weights, but each process its own dropout masks

    def loader(texts, labels, shuffle):
        token_ids = ut.encode(tokenizer, texts, args.max_length)
        return ut.make_loader(token_ids, labels, args.batch_size, tokenizer.pad_token_id,
                              shuffle=shuffle, seed=args.seed)
    train_loader, valid_loader = loader(train["text"], train_y, True), loader(valid["text"], valid_y, False)
    if args.precompute_features:
        train_loader = ut.make_feature_loader(*ut.extract_features(model, train_loader, device),
                                              args.batch_size, shuffle=True, seed=args.seed)
        valid_loader = ut.make_feature_loader(*ut.extract_features(model, valid_loader, device),
                                              args.batch_size)

    state = args.save_state or args.save.with_name(f".{args.save.name}.state.pt")
    try:
        history = ut.train_loop(
            model, train_loader, valid_loader, epochs=args.epochs, lr=args.lr, head_lr=args.head_lr,
            weight_decay=args.weight_decay, warmup_ratio=args.warmup_ratio, schedule=args.schedule,
            max_grad_norm=args.max_grad_norm, accumulation_steps=args.accumulation_steps,
            patience=args.patience, device=device, save_state=state, resume_from=args.resume)
    except KeyboardInterrupt:
        if rank == 0:
            finished = (f"The state after the last finished epoch is in {state}; continue with the same "
                        f"command plus --resume {state}" if state.is_file() else "No epoch had finished")
            print(f"\ninterrupted: nothing was saved to {args.save}. {finished}.", file=sys.stderr)
        raise SystemExit(128 + signal.SIGINT)

    record = {"mode": mode, "label_names": names, "best_epoch": history["best_epoch"],
              "best_valid_accuracy": max(history["valid_acc"]), "history": history,
              "processes": world_size, "global_batch": global_batch,
              "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    if world_size > 1:
        record["largest_weight_difference_between_processes"] = largest_difference_between_processes(model)
        log(f"weights on all {world_size} processes agree up to "
            f"{record['largest_weight_difference_between_processes']:.1e}")
        torch.distributed.destroy_process_group()
    if rank != 0:
        return record
    partial = args.save.with_name(f".{args.save.name}.partial-{os.getpid()}")
    ut.save_classifier(model, tokenizer, partial)
    use_korean_font()
    axes = plot_history(history, title=f"{args.train.name} ({mode})")
    axes[0].figure.savefig(partial / "history.png", dpi=120)
    (partial / RUN_MARKER).write_text(json.dumps(record, indent=2, ensure_ascii=False))  # written last
    move_into_place(partial, args.save, args.overwrite)
    if not args.save_state:
        state.unlink(missing_ok=True)
    print(in_book_lang(f"최고 검증 정확도 {record['best_valid_accuracy']:.4f} (에폭 {history['best_epoch']})",
                       f"best validation accuracy {record['best_valid_accuracy']:.4f} (epoch {history['best_epoch']})")
          + not_a_result())
    print(in_book_lang(f"{args.save}/에 저장했습니다. 이렇게 불러 씁니다:", f"saved to {args.save}/ ; use it with:") + "\n"
          f"  from utils.pytorch import load_classifier, predict_sentiment\n"
          f"  model, tokenizer = load_classifier('{args.save}')\n"
          f"  predict_sentiment(model, tokenizer, 'your text', label_names={names})")
    return record


if __name__ == "__main__":
    main(sys.argv[1:])
