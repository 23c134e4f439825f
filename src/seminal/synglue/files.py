"""The official GLUE file layouts, one writer per task, fed by the synglue generators.

Column sets, headers and label strings are those of the GLUE distribution (Wang et al. 2019,
as written by the official download script), down to three byte-level habits that readers must
tolerate: CoLA's dev.tsv and the diagnostic.tsv have no final newline, and MRPC's train/dev
files start with a UTF-8 byte-order mark. Text never holds tabs, newlines or quote characters.

Beside every split `<name>.tsv` goes `<name>.meta.tsv` (header `distance<TAB>phenomenon`, one
row per example in the same order), synglue's own annotation.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from seminal.errors import SeminalError
from seminal.io import atomic_open
from seminal.synglue import nli, pairs, tasks
from seminal.synglue.grammar import Retry
from seminal.synglue.tasks import Example

Gen = Callable[[random.Random, int, int], Example]
MAX_TRIES = 2000


def split_rng(seed: int, *names: str) -> random.Random:
    """An independent stream per (seed, task, split), stable across Python versions and runs."""
    h = hashlib.sha256("/".join([str(seed), *names]).encode()).digest()
    return random.Random(int.from_bytes(h[:8], "big"))


def generate_split(gen: Gen, rng: random.Random, n: int, num_classes: int, max_distance: int,
                   seen: set, where: str) -> list[Example]:
    """n examples whose (class, distance) pairs are spread evenly and independently."""
    plan = [(i % num_classes, 1 + (i // num_classes) % max_distance) for i in range(n)]
    rng.shuffle(plan)
    out = []
    for y, d in plan:
        for _ in range(MAX_TRIES):
            try:
                ex = gen(rng, y, d)
            except Retry:
                continue
            if ex.key not in seen:
                break
        else:
            raise SeminalError(f"cannot generate a new example with class {y} and distance {d}", where)
        seen.add(ex.key)
        out.append(ex)
    return out


# ---------------------------------------------------------------------------------------------
# writing


def write_tsv(path: Path, header: list[str] | None, rows: list[list[str]], final_newline: bool = True,
              bom: bool = False) -> None:
    lines = (["\t".join(header)] if header else []) + ["\t".join(r) for r in rows]
    body = "\n".join(lines) + ("\n" if final_newline and lines else "")
    with atomic_open(path, "w", encoding="utf-8-sig" if bom else "utf-8") as f:
        f.write(body)


def write_meta(path: Path, examples: list[Example]) -> None:
    write_tsv(path, ["distance", "phenomenon"], [[str(e.distance), e.phenomenon] for e in examples])


def meta_path(tsv: Path) -> Path:
    return tsv.with_name(tsv.name[: -len(".tsv")] + ".meta.tsv")


@dataclass(frozen=True)
class Task:
    name: str
    labels: tuple[str, ...] | None  # None: regression, classes are the 5 unit score bins
    # split -> generator, in generation order: evaluation splits first, so that they do not depend
    # on train_size (train is deduplicated against them). MNLI's "diagnostic" is the AX set,
    # written to diagnostic/ and kept disjoint from MNLI's training pairs.
    splits: dict[str, Gen]

    @property
    def num_classes(self) -> int:
        return 5 if self.labels is None else len(self.labels)


TASKS: dict[str, Task] = {
    t.name: t for t in (
        Task("CoLA", ("0", "1"), {"dev": tasks.cola, "test": tasks.cola, "train": tasks.cola}),
        Task("SST-2", ("0", "1"), {"dev": tasks.sst, "test": tasks.sst, "train": tasks.sst}),
        Task("MRPC", ("0", "1"), {"dev": pairs.mrpc, "test": pairs.mrpc, "train": pairs.mrpc}),
        Task("STS-B", None, {"dev": pairs.stsb, "test": pairs.stsb, "train": pairs.stsb}),
        Task("QQP", ("0", "1"), {"dev": pairs.qqp, "test": pairs.qqp, "train": pairs.qqp}),
        Task("MNLI", nli.LABELS, {"dev_matched": nli.mnli_matched, "dev_mismatched": nli.mnli_mismatched,
                                  "test_matched": nli.mnli_matched, "test_mismatched": nli.mnli_mismatched,
                                  "diagnostic": nli.diagnostic, "train": nli.mnli_matched}),
        Task("QNLI", ("entailment", "not_entailment"), {"dev": pairs.qnli, "test": pairs.qnli, "train": pairs.qnli}),
        Task("RTE", ("entailment", "not_entailment"), {"dev": pairs.rte, "test": pairs.rte, "train": pairs.rte}),
        Task("WNLI", ("0", "1"), {"dev": tasks.wnli, "test": tasks.wnli, "train": tasks.wnli}),
    )
}


def _index_rows(exs: list[Example], *fields: Callable[[Example], str]) -> list[list[str]]:
    return [[str(i)] + [f(e) for f in fields] for i, e in enumerate(exs)]


def _s1(e: Example) -> str:
    return e.s1


def _s2(e: Example) -> str:
    return e.s2 or ""


def _label(e: Example) -> str:
    return e.label


class _Ids:
    """Stable numeric ids for sentences/questions (MRPC #1 ID, QQP qid), drawn from a task's stream."""

    def __init__(self, rng: random.Random, lo: int, hi: int):
        self.rng, self.lo, self.hi, self.ids, self.used = rng, lo, hi, {}, set()

    def __call__(self, s: str) -> str:
        if s not in self.ids:
            while (i := self.rng.randrange(self.lo, self.hi)) in self.used:
                pass
            self.used.add(i)
            self.ids[s] = str(i)
        return self.ids[s]


def write_task(root: Path, task: Task, data: dict[str, list[Example]], rng: random.Random) -> list[Path]:
    """Write a task's splits in its GLUE layout; returns the paths written."""
    d = root / task.name
    out: list[Path] = []
    task_ids: dict[str, _Ids] = {}

    def put(path: Path, header, rows, exs, **kw) -> None:
        write_tsv(path, header, rows, **kw)
        write_meta(meta_path(path), exs)
        out.extend([path, meta_path(path)])

    name = task.name
    for split, exs in data.items():
        test = split.startswith("test")
        if name == "CoLA":
            if test:
                put(d / "test.tsv", ["index", "sentence"], _index_rows(exs, _s1), exs)
            else:
                rows = [[e.extra["source"], e.label, e.extra["mark"], e.s1] for e in exs]
                put(d / f"{split}.tsv", None, rows, exs, final_newline=split != "dev")
        elif name == "SST-2":
            if test:
                put(d / "test.tsv", ["index", "sentence"], _index_rows(exs, _s1), exs)
            else:
                put(d / f"{split}.tsv", ["sentence", "label"], [[e.s1, e.label] for e in exs], exs)
        elif name == "MRPC":
            ids = task_ids.setdefault(name, _Ids(rng, 100000, 4000000))
            if test:
                rows = [[str(i), ids(e.s1), ids(_s2(e)), e.s1, _s2(e)] for i, e in enumerate(exs)]
                put(d / "test.tsv", ["index", "#1 ID", "#2 ID", "#1 String", "#2 String"], rows, exs)
            else:
                rows = [[e.label, ids(e.s1), ids(_s2(e)), e.s1, _s2(e)] for e in exs]
                put(d / f"{split}.tsv", ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"], rows, exs, bom=True)
        elif name == "STS-B":
            files = {"main-captions": "synvid", "main-news": "synnews", "main-forum": "synforum"}
            head = ["index", "genre", "filename", "year", "old_index", "source1", "source2", "sentence1", "sentence2"]
            rows = [[str(i), e.extra["genre"], files[e.extra["genre"]], "synglue", f"{i:04d}", "none", "none", e.s1, _s2(e)]
                    + ([] if test else [e.label]) for i, e in enumerate(exs)]
            put(d / f"{split}.tsv", head + ([] if test else ["score"]), rows, exs)
        elif name == "QQP":
            qid = task_ids.setdefault(name, _Ids(rng, 1, 900000))
            pid = task_ids.setdefault(name + "/pair", _Ids(rng, 1, 900000))
            if test:
                rows = [[pid(e.s1 + "\t" + _s2(e)), e.s1, _s2(e)] for e in exs]
                put(d / "test.tsv", ["id", "question1", "question2"], rows, exs)
            else:
                rows = [[pid(e.s1 + "\t" + _s2(e)), qid(e.s1), qid(_s2(e)), e.s1, _s2(e), e.label] for e in exs]
                put(d / f"{split}.tsv", ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"], rows, exs)
        elif name == "MNLI":
            if split == "diagnostic":
                dd = root / "diagnostic"
                rows = _index_rows(exs, _s1, _s2)
                put(dd / "diagnostic.tsv", ["index", "sentence1", "sentence2"], rows, exs, final_newline=False)
                put(dd / "diagnostic-full.tsv", ["index", "sentence1", "sentence2", "label", "phenomenon"],
                    _index_rows(exs, _s1, _s2, _label, lambda e: e.phenomenon), exs)
                continue
            prompt = task_ids.setdefault(name, _Ids(rng, 10000, 999999))
            head = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
                    "sentence1_parse", "sentence2_parse", "sentence1", "sentence2"]
            rows = []
            for i, e in enumerate(exs):
                p = prompt(e.s1)
                x = e.extra
                row = [str(i), p, p + "a", x["genre"], x["s1_binary_parse"], x["s2_binary_parse"],
                       x["s1_parse"], x["s2_parse"], e.s1, _s2(e)]
                if split == "train":
                    row += [e.label, e.label]
                elif not test:
                    row += [e.label] * 6
                rows.append(row)
            if split == "train":
                head = head + ["label1", "gold_label"]
            elif not test:
                head = head + ["label1", "label2", "label3", "label4", "label5", "gold_label"]
            put(d / f"{split}.tsv", head, rows, exs)
        else:  # QNLI, RTE, WNLI
            cols = ["question", "sentence"] if name == "QNLI" else ["sentence1", "sentence2"]
            if test:
                put(d / "test.tsv", ["index", *cols], _index_rows(exs, _s1, _s2), exs)
            else:
                put(d / f"{split}.tsv", ["index", *cols, "label"], _index_rows(exs, _s1, _s2, _label), exs)
    return out
