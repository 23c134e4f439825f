"""Subword tokenisation: one sentencepiece unigram model per benchmark, and ids encoded once.

Kudo (2018), "Subword Regularization" (the unigram language-model segmentation) as implemented
by sentencepiece (Kudo & Richardson 2018). Every model in the project reads the same ids, so
the papers differ only in their architecture and training, never in their tokenisation.

Special ids (fixed for the whole project):

    [PAD]=0 [UNK]=1 [BOS]=2 [EOS]=3, then user-defined [CLS]=4 [SEP]=5 [MASK]=6

Encoded splits are flat arrays, memory-mapped when read (see DESIGN.md, "Data layout"):

    <out>/<Task>/<split>/s1_ids.npy      uint16, all sentence-1 token ids concatenated
    <out>/<Task>/<split>/s1_offsets.npy  int64, n+1 entries: row i = s1_ids[off[i]:off[i+1]]
    <out>/<Task>/<split>/s2_*.npy        the same for sentence 2 (pair tasks only)
    <out>/<Task>/<split>/labels.npy      int64 class ids / float32 scores (labelled splits only)

Determinism: sentencepiece's own sentence sampling draws from a process-wide generator that
cannot be reliably re-seeded inside one process, and its EM splits the work by thread, so the
learned pieces depend on `num_threads`. We therefore (1) sample the training sentences
ourselves with `numpy.random.default_rng(seed)` and hand sentencepiece exactly those
(`input_sentence_size=0` to it), and (2) default `num_threads` to 1. Same corpus + seed +
num_threads => identical model bytes. The model is produced in memory (`model_writer`) and
written atomically, so no temporary training directory or input path ends up in it.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sentencepiece as spm

from seminal.benchmark import BenchmarkSpec, TaskSpec
from seminal.errors import SeminalError
from seminal.io import atomic_open, save_npy

PAD, UNK, BOS, EOS, CLS, SEP, MASK = 0, 1, 2, 3, 4, 5, 6
SPECIAL_PIECES = ("[PAD]", "[UNK]", "[BOS]", "[EOS]", "[CLS]", "[SEP]", "[MASK]")
MAX_VOCAB = 65536  # ids are stored as uint16


# ---------------------------------------------------------------------------------------------
# training


def _sentences(corpus: list[Path]) -> Iterator[str]:
    """Non-blank lines of the corpus files, in order (blank lines separate documents)."""
    for path in corpus:
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    line = line.rstrip("\n")
                    if line.strip():
                        yield line
        except FileNotFoundError as e:
            raise SeminalError("corpus file not found", path) from e


def train_tokenizer(corpus: list[Path], model_prefix: Path, vocab_size: int, seed: int = 0,
                    input_sentence_size: int = 1_000_000, num_threads: int = 1) -> Path:
    """Train a unigram sentencepiece model on `corpus`; write <prefix>.model and <prefix>.vocab.

    At most `input_sentence_size` sentences are used (a uniform sample drawn with `seed`, kept in
    corpus order); the seed has no effect when the corpus is smaller. Returns the .model path.
    """
    corpus = [Path(p) for p in corpus]
    n = sum(1 for _ in _sentences(corpus))
    if n == 0:
        raise SeminalError("corpus has no sentences", corpus[0] if corpus else None)
    keep: np.ndarray | None = None
    if 0 < input_sentence_size < n:
        rng = np.random.default_rng(seed)
        keep = np.zeros(n, dtype=bool)
        keep[rng.choice(n, size=input_sentence_size, replace=False)] = True
    chosen = (s for i, s in enumerate(_sentences(corpus)) if keep is None or keep[i])

    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=chosen, model_writer=model,
            model_type="unigram", vocab_size=vocab_size,
            pad_id=PAD, unk_id=UNK, bos_id=BOS, eos_id=EOS,
            pad_piece="[PAD]", unk_piece="[UNK]", bos_piece="[BOS]", eos_piece="[EOS]",
            user_defined_symbols=list(SPECIAL_PIECES[CLS:]),
            input_sentence_size=0,  # we sampled above; sentencepiece's own sampler is not seedable
            num_threads=num_threads, minloglevel=2,
        )
    except RuntimeError as e:  # e.g. "Vocabulary size too high"
        reason = str(e).splitlines()[-1].rpartition("] ")[2]  # drop sentencepiece's source location
        raise SeminalError(f"sentencepiece: {reason}", corpus[0]) from e

    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    if sp.get_piece_size() >= MAX_VOCAB:
        raise SeminalError(f"vocab_size {sp.get_piece_size()} does not fit uint16 ids", model_prefix)
    model_path = Path(f"{model_prefix}.model")
    with atomic_open(f"{model_prefix}.vocab", "w") as f:  # the same text sentencepiece writes
        f.writelines(f"{sp.id_to_piece(i)}\t{sp.get_score(i):g}\n" for i in range(sp.get_piece_size()))
    with atomic_open(model_path, "wb") as f:
        f.write(model.getvalue())
    return model_path


def load_tokenizer(spm_model: Path) -> spm.SentencePieceProcessor:
    if not Path(spm_model).exists():
        raise SeminalError("tokenizer model not found", spm_model)
    sp = spm.SentencePieceProcessor(model_file=str(spm_model))
    if sp.get_piece_size() >= MAX_VOCAB:
        raise SeminalError(f"vocab size {sp.get_piece_size()} does not fit uint16 ids", spm_model)
    got = tuple(sp.id_to_piece(i) for i in range(len(SPECIAL_PIECES)))
    if got != SPECIAL_PIECES:
        raise SeminalError(f"special pieces are {got}, expected {SPECIAL_PIECES}", spm_model)
    return sp


# ---------------------------------------------------------------------------------------------
# encoded splits


@dataclass(frozen=True)
class EncodedSplit:
    """One split as flat id arrays (memory-mapped when loaded); row i = ids[off[i]:off[i+1]]."""

    s1_ids: np.ndarray  # (N1,) uint16
    s1_offsets: np.ndarray  # (n+1,) int64
    s2_ids: np.ndarray | None = None
    s2_offsets: np.ndarray | None = None
    labels: np.ndarray | None = None  # (n,) int64 class ids or float32 scores
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.s1_offsets) - 1

    @property
    def is_pair(self) -> bool:
        return self.s2_ids is not None

    def sentence(self, i: int, which: int = 1) -> np.ndarray:
        """Token ids of sentence `which` (1 or 2) of example i."""
        ids, off = (self.s1_ids, self.s1_offsets) if which == 1 else (self.s2_ids, self.s2_offsets)
        if ids is None or off is None:
            raise SeminalError("this split has no sentence 2", self.path)
        return ids[off[i]:off[i + 1]]

    def lengths(self, which: int = 1) -> np.ndarray:
        off = self.s1_offsets if which == 1 else self.s2_offsets
        if off is None:
            raise SeminalError("this split has no sentence 2", self.path)
        return np.diff(off)

    @classmethod
    def from_sequences(cls, s1: list[list[int]], s2: list[list[int]] | None = None,
                       labels: list | np.ndarray | None = None) -> EncodedSplit:
        """Build an in-memory split from lists of ids (tests, small tools)."""
        ids1, off1 = _flatten(s1)
        ids2, off2 = _flatten(s2) if s2 is not None else (None, None)
        y = None if labels is None else np.asarray(labels)
        if y is not None and y.dtype.kind == "f":
            y = y.astype(np.float32)
        elif y is not None:
            y = y.astype(np.int64)
        return cls(ids1, off1, ids2, off2, y)


def _flatten(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=offsets[1:])
    ids = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.uint16, count=int(offsets[-1]))
    return ids, offsets


def load_encoded(directory: Path) -> EncodedSplit:
    """Open an encoded split written by `encode_benchmark` (arrays memory-mapped, read-only)."""
    d = Path(directory)

    def load(name: str, required: bool = False) -> np.ndarray | None:
        p = d / f"{name}.npy"
        if not p.exists():
            if required:
                raise SeminalError("encoded split is missing this file", p)
            return None
        return np.load(p, mmap_mode="r")

    s1_ids, s1_off = load("s1_ids", True), load("s1_offsets", True)
    s2_ids, s2_off = load("s2_ids"), load("s2_offsets")
    split = EncodedSplit(s1_ids, s1_off, s2_ids, s2_off, load("labels"), d)  # type: ignore[arg-type]
    for off, ids in ((s1_off, s1_ids), (s2_off, s2_ids)):
        if off is not None and (len(off) != len(split) + 1 or off[-1] != len(ids)):
            raise SeminalError("offsets do not match ids or sentence count", d)
    if split.labels is not None and len(split.labels) != len(split):
        raise SeminalError(f"{len(split.labels)} labels for {len(split)} examples", d)
    return split


@contextmanager
def _atomic_dir(path: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `path`; swap it in for `path` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def encode_task(task: TaskSpec, data_root: Path, spm_model: Path, out_dir: Path,
                num_threads: int = 1) -> None:
    """Encode every split of one task to out_dir/<split>/*.npy (each split folder swapped in
    atomically, so a crash never leaves a partial split)."""
    from seminal.data import label_ids, read_split  # late import keeps this module light

    sp = load_tokenizer(spm_model)
    data_root, out_dir = Path(data_root), Path(out_dir)
    for name, split_spec in task.splits.items():
        split = read_split(task, name, data_root)
        with _atomic_dir(out_dir / name) as tmp:
            sentences = [("s1", split.sentence1)]
            if task.is_pair:
                if split.sentence2 is None:
                    raise SeminalError(f"pair task {task.name} has no sentence2", data_root / split_spec.paths[0])
                sentences.append(("s2", split.sentence2))
            for prefix, text in sentences:
                ids, offsets = _flatten(sp.encode(list(text), out_type=int, num_threads=num_threads))
                save_npy(tmp / f"{prefix}_ids.npy", ids)
                save_npy(tmp / f"{prefix}_offsets.npy", offsets)
            if split.labels is not None:
                save_npy(tmp / "labels.npy", label_ids(task, split.labels, data_root / split_spec.paths[0]))


def encode_benchmark(spec: BenchmarkSpec, data_root: Path, spm_model: Path, out_dir: Path,
                     num_threads: int = 1) -> None:
    """Encode every split of every task in `spec` to out_dir/<Task>/<split>/*.npy."""
    for task in spec.tasks.values():
        encode_task(task, data_root, spm_model, Path(out_dir) / task.name, num_threads)


# WikiText (Merity et al. 2016, "Pointer Sentinel Mixture Models") as distributed: one paragraph a
# line, blank lines around headings and between sections, headings ` = Title = ` (an article) and
# ` = = Section = = ` (deeper levels: more `=`), and `@-@`, `@,@`, `@.@` for a hyphen, comma or
# point inside a word or number ("north @-@ eastern", "1 @,@ 000").
WIKITEXT_HEADING = re.compile(r"^(=(?: =)*) (.+) \1$")  # on the stripped line; level = number of `=`
WIKITEXT_AT = re.compile(r" @([-,.])@ ")


def _wikitext_line(line: str) -> tuple[str, bool]:
    """(text, is a heading) of one line of a WikiText file: a heading becomes its text."""
    line = WIKITEXT_AT.sub(r"\1", line.strip())
    m = WIKITEXT_HEADING.match(line)
    return (m.group(2), True) if m else (line, False)


def gather_corpus(files: list[Path], out: Path) -> int:
    """Join plain UTF-8 text files into one corpus file (a blank line between files: a document
    break); returns the number of non-blank lines. Written atomically; bad UTF-8 names file:line.

    A file in the WikiText layout (its first non-blank line is an article heading ` = Title = `)
    is read as such: each section becomes one document, its heading(s) as the first line(s) without
    the `=` marks and then its paragraphs, one a line; the blank lines around headings are dropped
    (in our corpus a blank line ends a document); `@-@`, `@,@`, `@.@` become `-`, `,`, `.` joined to
    their neighbours. Sections, not articles: WikiText-2's 60 validation articles are too few for
    BERT's held-out split (1%, cut at a document break) to hold the two documents NSP needs, and a
    section is what the raw file itself sets apart with blank lines. Other files are copied as is."""
    n = 0
    with atomic_open(Path(out), "w") as g:
        for k, path in enumerate(files):
            try:
                f = open(path, "rb")  # decoded line by line, so that a bad byte names its line
            except FileNotFoundError as e:
                raise SeminalError("corpus file not found", path) from e
            with f:
                if k:
                    g.write("\n")
                wikitext: bool | None = None  # decided by the file's first non-blank line
                written = 0  # non-blank lines written from this file
                in_text = False  # a WikiText paragraph written since the last heading
                for line_no, raw in enumerate(f, 1):
                    try:
                        line = raw.decode("utf-8").rstrip()
                    except UnicodeDecodeError as e:
                        raise SeminalError("not UTF-8 text", path, line_no) from e
                    if wikitext is None:
                        if not line.strip():
                            continue  # leading blank lines break no document
                        m = WIKITEXT_HEADING.match(line.strip())
                        wikitext = bool(m) and m.group(1) == "="
                    if wikitext:
                        if not line.strip():
                            continue
                        line, heading = _wikitext_line(line)
                        if heading and in_text:  # a new section: a document break
                            g.write("\n")
                        in_text = not heading
                    g.write(line + "\n")
                    written += bool(line)
                n += written
        if n == 0:  # inside the block: no empty corpus is left behind
            raise SeminalError("the corpus is empty", files[0] if files else out)
    return n


def train_text_corpus(spec: BenchmarkSpec, root: Path, out: Path, tasks: list[str] | None = None) -> tuple[int, int]:
    """The fallback pretraining corpus when none is given: the text of the tasks' *train* splits.

    One document per example (its sentence, or its two sentences: BERT's next-sentence pairs then
    come from the pair tasks' own pairs), exact duplicate documents dropped (SST-2's phrases recur).
    Labels are never read; dev and test text never enters, nor the text of cross-validated
    tasks (their folds' test text would). `tasks`: those with data (default: all of the spec's).
    Returns (documents, lines); written atomically."""
    from seminal.data import read_split  # late import keeps this module light

    seen: set[str] = set()
    docs = lines = 0
    with atomic_open(Path(out), "w") as g:
        for task in (spec.tasks[t] for t in (spec.tasks if tasks is None else tasks)):
            if task.cv is not None or "train" not in task.splits:
                continue
            split = read_split(task, "train", root)
            for i in range(len(split)):
                doc = [split.sentence1[i], *([split.sentence2[i]] if split.sentence2 else [])]
                doc = [" ".join(s.split()) for s in doc if s.strip()]
                key = "\n".join(doc)
                if not doc or key in seen:
                    continue
                seen.add(key)
                g.write(("\n" if docs else "") + key + "\n")
                docs, lines = docs + 1, lines + len(doc)
        if docs == 0:  # inside the block: nothing is written
            raise SeminalError("no train split to build a corpus from", root)
    return docs, lines


def encode_corpus(corpus: Path, spm_model: Path, out: Path, chunk_lines: int = 10_000,
                  num_threads: int = 1) -> int:
    """Encode a corpus (one sentence a line, blank line between documents) to a flat uint16 .npy.

    Layout: the ids of each sentence followed by EOS, and one extra EOS between documents.
    Streams the corpus in chunks of `chunk_lines` lines; returns the number of ids written.
    """
    sp = load_tokenizer(spm_model)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    seen_sentence, doc_break, total = False, False, 0
    with tempfile.TemporaryFile(dir=out.parent) as raw:  # the ids, before the .npy header is known
        try:
            f = open(corpus, encoding="utf-8")
        except FileNotFoundError as e:
            raise SeminalError("corpus file not found", corpus) from e
        with f:
            while chunk := list(itertools.islice(f, chunk_lines)):
                lines = [line.rstrip("\n") for line in chunk]
                encoded = iter(sp.encode([s for s in lines if s.strip()], out_type=int,
                                         num_threads=num_threads))
                ids: list[int] = []
                for line in lines:
                    if not line.strip():
                        doc_break = seen_sentence
                        continue
                    if doc_break:
                        ids.append(EOS)
                        doc_break = False
                    ids.extend(next(encoded))
                    ids.append(EOS)
                    seen_sentence = True
                raw.write(np.asarray(ids, dtype=np.uint16).tobytes())
                total += len(ids)
        raw.seek(0)
        with atomic_open(out, "wb") as g:
            np.lib.format.write_array_header_1_0(
                g, {"descr": np.dtype(np.uint16).str, "fortran_order": False, "shape": (total,)})
            shutil.copyfileobj(raw, g)
    return total
