"""Real GLUE: download from the official locations (or copy a local folder), extract safely, verify.

Sources, exactly those of the official GLUE download script (download_glue_data.py, the gist
W4ngatang/60c2bdb54d156a41194446737ce03e2e that GLUE's website points to):

    task        official location                                                -> files under the data root
    CoLA        https://dl.fbaipublicfiles.com/glue/data/CoLA.zip                -> CoLA/{train,dev,test}.tsv
    SST-2       https://dl.fbaipublicfiles.com/glue/data/SST-2.zip               -> SST-2/{train,dev,test}.tsv
    QQP         https://dl.fbaipublicfiles.com/glue/data/QQP-clean.zip           -> QQP/{train,dev,test}.tsv
    STS-B       https://dl.fbaipublicfiles.com/glue/data/STS-B.zip               -> STS-B/{train,dev,test}.tsv
    MNLI        https://dl.fbaipublicfiles.com/glue/data/MNLI.zip                -> MNLI/train.tsv, dev_/test_{matched,mismatched}.tsv
    QNLI        https://dl.fbaipublicfiles.com/glue/data/QNLIv2.zip              -> QNLI/{train,dev,test}.tsv
    RTE         https://dl.fbaipublicfiles.com/glue/data/RTE.zip                 -> RTE/{train,dev,test}.tsv
    WNLI        https://dl.fbaipublicfiles.com/glue/data/WNLI.zip                -> WNLI/{train,dev,test}.tsv
    AX          https://dl.fbaipublicfiles.com/glue/data/AX.tsv (a plain file)   -> diagnostic/diagnostic.tsv
    MRPC        https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_train.txt
                https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_test.txt
                https://dl.fbaipublicfiles.com/glue/data/mrpc_dev_ids.tsv      -> MRPC/{train,dev,test}.tsv

GLUE does not host MRPC (licence): the official script takes Microsoft's two files (as mirrored
by SentEval; the originals are in MSRParaphraseCorpus.msi from download.microsoft.com) and the
GLUE dev split's id pairs, and writes `train.tsv`/`dev.tsv` (Microsoft's header line, byte-order
mark included, then each row with its id pair in `dev_ids` going to dev, the others to train) and
`test.tsv` (header `index  #1 ID  #2 ID  #1 String  #2 String`, the label replaced by a 0-based
index). `build_mrpc` does exactly that. A local folder may hold either the built MRPC files or
Microsoft's (`MRPC/msr_paraphrase_train.txt`, `msr_paraphrase_test.txt`, `dev_ids.tsv`).

Verification: `config/benchmarks/glue.sha256` (sha256sum format, paths relative to the data root)
lists every file the pipeline reads. Files whose checksum was not known when it was written are
listed as `# unverified  PATH`: they are reported as unverified (with the sha256 computed), never
silently passed. Any other difference or a missing file is an error naming the file.

Nothing half-written is ever left behind: downloads go to `DEST.part` and are renamed when
complete (the `.part` stays only after a dropped connection, so that the next run resumes it);
archives are extracted into a temporary folder beside the target and renamed into place; the
whole GLUE tree is built and verified in a temporary folder before any task folder is moved into
the output folder.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seminal.errors import SeminalError
from seminal.io import atomic_open

GLUE_BASE_URL = "https://dl.fbaipublicfiles.com/glue/data"
SENTEVAL_BASE_URL = "https://dl.fbaipublicfiles.com/senteval/senteval_data"
MRPC_TRAIN = "msr_paraphrase_train.txt"
MRPC_TEST = "msr_paraphrase_test.txt"
MRPC_DEV_IDS = "mrpc_dev_ids.tsv"  # saved as MRPC/dev_ids.tsv, as the official script does
MRPC_HEADER_TEST = "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n"


@dataclass(frozen=True)
class Source:
    """Where one GLUE task comes from: a zip holding `folder/`, a plain file, or MRPC's recipe."""

    kind: str  # "zip" | "file" | "mrpc"
    name: str  # file name on the server (zip or plain file); unused for MRPC
    folder: str  # the task's folder under the data root


# Task names as in config/benchmarks/glue.yaml; the order of the official script.
GLUE_SOURCES: dict[str, Source] = {
    "CoLA": Source("zip", "CoLA.zip", "CoLA"),
    "SST-2": Source("zip", "SST-2.zip", "SST-2"),
    "MRPC": Source("mrpc", "", "MRPC"),
    "QQP": Source("zip", "QQP-clean.zip", "QQP"),
    "STS-B": Source("zip", "STS-B.zip", "STS-B"),
    "MNLI": Source("zip", "MNLI.zip", "MNLI"),
    "QNLI": Source("zip", "QNLIv2.zip", "QNLI"),
    "RTE": Source("zip", "RTE.zip", "RTE"),
    "WNLI": Source("zip", "WNLI.zip", "WNLI"),
    "AX": Source("file", "AX.tsv", "diagnostic"),
}
TASK_ALIASES = {"diagnostic": "AX", "SST": "SST-2", "STS": "STS-B"}  # the official script's names
EXTRA_FILES = ("LICENSE.txt",)
_UMASK = os.umask(0)
os.umask(_UMASK)  # kept beside a task's files when its source has one (STS-B)


def _official_url(name: str, base_url: str | None) -> str:
    if base_url:  # tests and mirrors: every file from one folder
        return f"{base_url.rstrip('/')}/{name}"
    base = SENTEVAL_BASE_URL if name in (MRPC_TRAIN, MRPC_TEST) else GLUE_BASE_URL
    return f"{base}/{name}"


# --------------------------------------------------------------------------------------------
# Download


class _Dropped(Exception):
    """A transient failure (connection error, timeout, 5xx, short read): worth a retry/resume."""


class _Progress:
    """tqdm on a terminal; otherwise a line every 10% (or every 10 MB when the size is unknown)."""

    def __init__(self, label: str, total: int | None, initial: int, enabled: bool):
        self.label, self.total, self.done = label, total, initial
        self.bar = None
        self.next_mark = 0
        self.enabled = enabled
        if not enabled:
            return
        if sys.stderr.isatty():
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, initial=initial, unit="B", unit_scale=True, desc=label, leave=False)
            except ImportError:  # pragma: no cover - tqdm is a dependency
                self.bar = None
        self._advance_mark()

    def _advance_mark(self) -> None:
        step = self.total // 10 if self.total else 10 * 2**20
        step = max(step, 1)
        while self.next_mark <= self.done:
            self.next_mark += step

    def update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(n)
        elif self.done >= self.next_mark:
            self._advance_mark()
            if self.total:
                print(f"{self.label}: {100 * self.done // self.total}% ({self.done / 2**20:.1f} of "
                      f"{self.total / 2**20:.1f} MiB)", file=sys.stderr, flush=True)
            else:
                print(f"{self.label}: {self.done / 2**20:.1f} MiB", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _sha256_file(path: Path, h: hashlib._Hash | None = None) -> hashlib._Hash:
    h = h or hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h


def sha256sum(path: str | Path) -> str:
    return _sha256_file(Path(path)).hexdigest()


def _content_range_start(value: str | None) -> tuple[int, int | None] | None:
    """`bytes START-END/TOTAL` -> (START, TOTAL or None)."""
    m = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", value or "")
    if not m:
        return None
    return int(m.group(1)), (None if m.group(3) == "*" else int(m.group(3)))


def _attempt(url: str, dest: Path, part: Path, timeout: float, progress: bool) -> None:
    """One HTTP request: resume `part` if it has bytes, else start it. Raises _Dropped if transient."""
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "seminal-download/1", "Accept-Encoding": "identity"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        e.close()
        if e.code == 416 and have:  # the .part is not a prefix of this file (or is complete): restart
            part.unlink(missing_ok=True)
            raise _Dropped(f"HTTP 416 for a resume at byte {have}; restarting") from e
        if e.code >= 500 or e.code in (408, 429):
            raise _Dropped(f"HTTP {e.code} {e.reason}") from e
        part.unlink(missing_ok=True)
        raise SeminalError(f"download failed: HTTP {e.code} {e.reason} from {url}", dest) from e
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        raise _Dropped(f"{getattr(e, 'reason', None) or e}") from e

    with resp:
        status = resp.status
        length = resp.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if status == 206:
            cr = _content_range_start(resp.headers.get("Content-Range"))
            if cr is None or cr[0] != have:  # not the range we asked for: start again cleanly
                part.unlink(missing_ok=True)
                raise _Dropped(f"unexpected Content-Range {resp.headers.get('Content-Range')!r}; restarting")
            mode = "ab"
            total = cr[1] if cr[1] is not None else (have + length if length is not None else None)
            start = have
        else:  # 200: the server ignored the Range header (or none was sent): restart from byte 0
            mode, start = "wb", 0
            total = length
        bar = _Progress(f"download {dest.name}", total, start, progress)
        got = start
        try:
            with open(part, mode) as f:
                while True:
                    try:
                        chunk = resp.read(1 << 16)
                    except http.client.IncompleteRead as e:
                        f.write(e.partial)
                        got += len(e.partial)
                        raise _Dropped(f"connection closed after {got} of {total} bytes") from e
                    except (OSError, http.client.HTTPException) as e:
                        raise _Dropped(f"connection lost after {got} bytes ({e})") from e
                    if not chunk:
                        break
                    f.write(chunk)
                    got += len(chunk)
                    bar.update(len(chunk))
        finally:
            bar.close()
    if total is not None and got != total:
        raise _Dropped(f"truncated transfer: got {got} of {total} bytes")


def fetch(url: str, dest: str | Path, sha256: str | None = None, retries: int = 3, timeout: float = 60,
          backoff: float = 1.0, progress: bool = True) -> Path:
    """Download `url` to `dest` (via `dest.part`, resumed with a Range request when one exists).

    Transient failures (connection errors, timeouts, HTTP 5xx, a transfer shorter than its
    Content-Length) are retried `retries` times, `backoff * 2**k` seconds apart, resuming the
    `.part`. When `sha256` is given the complete file must match it. The file appears at `dest`
    only when complete and verified; after any failure nothing new is at `dest` (a `.part` is kept
    only after a dropped connection, for the next run to resume; never after a checksum mismatch).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            _attempt(url, dest, part, timeout, progress)
            break
        except _Dropped as e:
            last = str(e)
            print(f"download {url}: {last} (attempt {attempt + 1} of {retries + 1})", file=sys.stderr, flush=True)
    else:
        raise SeminalError(f"download failed after {retries + 1} attempts: {last} (from {url}; the partial "
                           f"file {part.name} is kept so that the next run resumes it)", dest)

    if sha256 is not None:
        got = sha256sum(part)
        if got != sha256.lower():
            part.unlink(missing_ok=True)
            raise SeminalError(f"sha256 mismatch: got {got}, expected {sha256.lower()} (from {url}; "
                               f"the corrupt download was deleted)", dest)
    os.chmod(part, 0o666 & ~_UMASK)
    os.replace(part, dest)
    return dest


# --------------------------------------------------------------------------------------------
# Safe extraction


def _unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if not name or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if any(part == ".." for part in re.split(r"[\\/]", name)):
        return "a path with '..'"
    if "\0" in name:
        return "a NUL byte in its name"
    return None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _move_into(staging: Path, out_dir: Path) -> None:
    """Rename `staging` onto `out_dir` (absent), or each of its top-level entries into it."""
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    for entry in sorted(staging.iterdir()):
        target = out_dir / entry.name
        if target.exists() or target.is_symlink():
            aside = out_dir / f".{entry.name}.old.{os.getpid()}"
            _remove(aside)
            os.replace(target, aside)
            os.replace(entry, target)
            _remove(aside)
        else:
            os.replace(entry, target)
    staging.rmdir()


def _staging_dir(out_dir: Path) -> Path:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    os.chmod(staging, 0o777 & ~_UMASK)  # mkdtemp makes 0700; it may become out_dir itself
    return staging


def extract_zip(archive: str | Path, out_dir: str | Path, members: Iterable[str] | None = None) -> list[str]:
    """Extract `members` (default: all files) of a zip into `out_dir`; return the names extracted.

    Every member name is checked first (absolute paths, `..`, symbolic links are refused with an
    error naming the archive and the member); the files are written into a temporary folder
    beside `out_dir` and renamed into place only when all are complete and their CRCs check.
    """
    archive, out_dir = Path(archive), Path(out_dir)
    try:
        zf = zipfile.ZipFile(archive)
    except FileNotFoundError as e:
        raise SeminalError("archive not found", archive) from e
    except (zipfile.BadZipFile, OSError) as e:
        raise SeminalError(f"not a valid zip archive (corrupt or truncated download?): {e}", archive) from e
    with zf:
        infos = zf.infolist()
        for info in infos:
            reason = _unsafe_reason(info)
            if reason:
                raise SeminalError(f"unsafe member {info.filename!r} ({reason}); nothing was extracted", archive)
        by_name = {i.filename: i for i in infos}
        if members is None:
            chosen = [i for i in infos if not i.is_dir()]
        else:
            chosen = []
            for m in members:
                if m not in by_name:
                    raise SeminalError(f"member {m!r} not in archive", archive)
                chosen.append(by_name[m])
        staging = _staging_dir(out_dir)
        try:
            for info in chosen:
                target = staging.joinpath(*re.split(r"[\\/]", info.filename))
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with zf.open(info) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                    raise SeminalError(f"cannot extract member {info.filename!r}: {e}", archive) from e
            _move_into(staging, out_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return [i.filename for i in chosen]


# --------------------------------------------------------------------------------------------
# Checksums


@dataclass
class Checksums:
    """A parsed checksum file: known sha256 per relative path, and the files listed as unverified."""

    path: Path
    known: dict[str, str]
    unverified: list[str]

    @property
    def files(self) -> list[str]:
        return list(self.known) + [f for f in self.unverified if f not in self.known]


_SUM_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")
_UNVERIFIED_LINE = re.compile(r"#\s*unverified\s+(\S+)\s*")


def _check_relpath(rel: str, path: Path, line: int) -> str:
    parts = rel.split("/")
    if rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts):
        raise SeminalError(f"path {rel!r} must be relative to the data root, with '/' and no '..'", path, line)
    return rel


def read_checksums(checksum_file: str | Path) -> Checksums:
    path = Path(checksum_file)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise SeminalError("checksum file not found", path) from e
    known: dict[str, str] = {}
    unverified: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = _UNVERIFIED_LINE.fullmatch(line)
            if m:
                unverified.append(_check_relpath(m.group(1), path, number))
            continue
        m = _SUM_LINE.fullmatch(line)
        if not m:
            raise SeminalError("not a sha256sum line ('<64 hex digits>  <path>')", path, number)
        rel = _check_relpath(m.group(2), path, number)
        if rel in known:
            raise SeminalError(f"{rel} listed twice", path, number)
        known[rel] = m.group(1).lower()
    if not known and not unverified:
        raise SeminalError("no checksums in file", path)
    return Checksums(path, known, unverified)


class ChecksumError(SeminalError):
    """A file missing or differing from its listed sha256; `rel` is its path under the data root."""

    def __init__(self, reason: str, root: Path, rel: str):
        super().__init__(reason, root / rel)
        self.reason, self.rel = reason, rel


@dataclass
class VerifyReport:
    root: Path
    verified: list[str] = field(default_factory=list)
    unverified: dict[str, str] = field(default_factory=dict)  # path -> sha256 computed here

    def lines(self) -> list[str]:
        out = [f"{self.root}: {len(self.verified)} files verified (sha256)"]
        for rel, digest in self.unverified.items():
            out.append(f"{self.root}: UNVERIFIED (no checksum known) {rel} sha256={digest}")
        return out


def verify_tree(root: str | Path, checksum_file: str | Path | Checksums,
                files: Iterable[str] | None = None) -> VerifyReport:
    """Check the files under `root` against the checksum file (only `files` when given).

    Raises SeminalError naming the first file that is missing or whose sha256 differs. Files the
    checksum file lists as unverified must exist; they are reported with their computed sha256.
    """
    root = Path(root)
    sums = checksum_file if isinstance(checksum_file, Checksums) else read_checksums(checksum_file)
    wanted = sums.files if files is None else list(files)
    report = VerifyReport(root)
    for rel in wanted:
        if rel not in sums.known and rel not in sums.unverified:
            raise SeminalError(f"{rel} is not listed in {sums.path}", root / rel)
        path = root / rel
        if not path.is_file():
            raise ChecksumError(f"missing (listed in {sums.path})", root, rel)
        digest = sha256sum(path)
        if rel in sums.known:
            if digest != sums.known[rel]:
                raise ChecksumError(f"sha256 mismatch: got {digest}, expected {sums.known[rel]} "
                                    f"(listed in {sums.path})", root, rel)
            report.verified.append(rel)
        else:
            report.unverified[rel] = digest
    return report


# --------------------------------------------------------------------------------------------
# MRPC


def build_mrpc(train_txt: str | Path, test_txt: str | Path, dev_ids: str | Path, out_dir: str | Path) -> None:
    """Write MRPC/{train,dev,test}.tsv from Microsoft's files, as download_glue_data.py does.

    Files are read as UTF-8 text with universal newlines (the official script's `io.open`): a
    byte-order mark on Microsoft's header line is kept and copied to train.tsv and dev.tsv. Each
    row is `strip()`ped and split on tabs into exactly 5 fields (else an error naming file:line).
    """
    train_txt, test_txt, dev_ids, out_dir = Path(train_txt), Path(test_txt), Path(dev_ids), Path(out_dir)

    def rows(path: Path) -> tuple[str, list[tuple[int, list[str]]]]:
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.readlines()
        except FileNotFoundError as e:
            raise SeminalError("file not found (MRPC needs Microsoft's msr_paraphrase files)", path) from e
        except UnicodeDecodeError as e:
            raise SeminalError(f"not valid UTF-8 text ({e.reason})", path) from e
        if not lines:
            raise SeminalError("empty file (expected a header line)", path)
        out = []
        for number, line in enumerate(lines[1:], start=2):
            fields = line.strip().split("\t")
            if len(fields) != 5:
                raise SeminalError(f"expected 5 tab-separated fields (Quality, #1 ID, #2 ID, #1 String, "
                                   f"#2 String), got {len(fields)}", path, number)
            out.append((number, fields))
        return lines[0], out

    try:
        with open(dev_ids, encoding="utf-8") as f:
            dev = {tuple(line.strip().split("\t")) for line in f}
    except FileNotFoundError as e:
        raise SeminalError("file not found (MRPC's GLUE dev split: mrpc_dev_ids.tsv)", dev_ids) from e
    train_header, train_rows = rows(train_txt)
    _, test_rows = rows(test_txt)

    with atomic_open(out_dir / "test.tsv") as f:
        f.write(MRPC_HEADER_TEST)
        for idx, (_, (_label, id1, id2, s1, s2)) in enumerate(test_rows):
            f.write(f"{idx}\t{id1}\t{id2}\t{s1}\t{s2}\n")
    header = train_header if train_header.endswith("\n") else train_header + "\n"
    header = header.replace("\r\n", "\n")
    with atomic_open(out_dir / "train.tsv") as train_f, atomic_open(out_dir / "dev.tsv") as dev_f:
        train_f.write(header)
        dev_f.write(header)
        for _, (label, id1, id2, s1, s2) in train_rows:
            (dev_f if (id1, id2) in dev else train_f).write(f"{label}\t{id1}\t{id2}\t{s1}\t{s2}\n")


# --------------------------------------------------------------------------------------------
# The GLUE tree


def _task_of_folder(folder: str) -> str | None:
    return next((t for t, s in GLUE_SOURCES.items() if s.folder == folder), None)


def _files_by_task(sums: Checksums) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rel in sums.files:
        task = _task_of_folder(rel.split("/", 1)[0])
        if task is None:
            raise SeminalError(f"{rel}: not under a GLUE task folder "
                               f"({', '.join(s.folder for s in GLUE_SOURCES.values())})", sums.path)
        out.setdefault(task, []).append(rel)
    return out


def _resolve_tasks(tasks: Sequence[str] | None, known: Iterable[str]) -> list[str] | None:
    if tasks is None or list(tasks) in ([], ["all"]):
        return None
    out = []
    for t in tasks:
        name = TASK_ALIASES.get(t, t)
        if name not in known:
            raise SeminalError(f"unknown GLUE task {t!r} (known: {', '.join(known)})")
        if name not in out:
            out.append(name)
    return out


def _mrpc_sources_in(folder: Path) -> tuple[Path, Path, Path] | None:
    files = (folder / MRPC_TRAIN, folder / MRPC_TEST, folder / "dev_ids.tsv")
    return files if all(f.is_file() for f in files) else None


def available_tasks(source: str | Path, checksum_file: str | Path) -> dict[str, list[str]]:
    """{task: missing files} for a local folder: a task is available when its list is empty."""
    source = Path(source)
    out = {}
    for task, rels in _files_by_task(read_checksums(checksum_file)).items():
        missing = [r for r in rels if not (source / r).is_file()]
        if task == "MRPC" and missing and _mrpc_sources_in(source / "MRPC"):
            missing = []
        out[task] = missing
    return out


@dataclass
class PrepareResult:
    out_dir: Path
    tasks: list[str]
    skipped: dict[str, str]  # task -> why it is not in out_dir
    report: VerifyReport

    def lines(self) -> list[str]:
        out = [f"{self.out_dir}: GLUE tasks ready: {', '.join(self.tasks) or 'none'}"]
        out += [f"{self.out_dir}: task {t} not prepared: {why}" for t, why in self.skipped.items()]
        return out + self.report.lines()


def _copy_local(source: Path, staging: Path, task: str, rels: list[str]) -> None:
    folder = GLUE_SOURCES[task].folder
    if task == "MRPC" and not all((source / r).is_file() for r in rels):
        train, test, ids = _mrpc_sources_in(source / "MRPC")  # type: ignore[misc]
        build_mrpc(train, test, ids, staging / folder)
    else:
        for rel in rels:
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / rel, staging / rel)  # a copy: the pipeline never touches the source
    for extra in EXTRA_FILES:
        if (source / folder / extra).is_file():
            shutil.copyfile(source / folder / extra, staging / folder / extra)


def _download_task(task: str, rels: list[str], staging: Path, cache: Path, base_url: str | None,
                   retries: int, timeout: float, backoff: float) -> None:
    src = GLUE_SOURCES[task]

    def get(name: str) -> Path:
        dest = cache / name
        if not dest.is_file():  # a complete download from an interrupted earlier run is reused
            fetch(_official_url(name, base_url), dest, retries=retries, timeout=timeout, backoff=backoff)
        return dest

    if src.kind == "zip":
        archive = get(src.name)
        try:
            with zipfile.ZipFile(archive) as zf:
                names = set(zf.namelist())
            extras = [f"{src.folder}/{x}" for x in EXTRA_FILES if f"{src.folder}/{x}" in names]
            extract_zip(archive, staging, rels + extras)  # checks every member's safety first
        except (zipfile.BadZipFile, SeminalError) as e:
            archive.unlink(missing_ok=True)  # unusable: the next run downloads it again
            msg = str(e) if isinstance(e, SeminalError) else f"{archive}: not a valid zip archive ({e})"
            raise SeminalError(f"{msg} (downloaded from {_official_url(src.name, base_url)}; deleted)") from e
    elif src.kind == "file":
        (rel,) = rels
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(get(src.name), staging / rel)
    else:  # MRPC: Microsoft's files + GLUE's dev ids, built as the official script builds them
        train, test, ids = get(MRPC_TRAIN), get(MRPC_TEST), get(MRPC_DEV_IDS)
        folder = staging / src.folder
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ids, folder / "dev_ids.tsv")  # the official script keeps it in MRPC/
        build_mrpc(train, test, ids, folder)


def prepare_glue(out_dir: str | Path, source: str | Path | None, checksum_file: str | Path,
                 tasks: Sequence[str] | None = None, base_url: str | None = None, *, retries: int = 3,
                 timeout: float = 60, backoff: float = 1.0, cache_dir: str | Path | None = None) -> PrepareResult:
    """Put the GLUE files the pipeline reads under `out_dir`, verified against `checksum_file`.

    `source` a folder in the GLUE layout: its files are copied (tasks=None: every task whose files
    are all there; the others are reported as skipped). Otherwise the official locations (or
    `base_url`) are downloaded into `cache_dir` (default: a hidden folder beside `out_dir`; kept
    after a dropped connection so the next run resumes, deleted after success). Everything is
    built and verified in a temporary folder beside `out_dir`; only then is each task folder
    renamed into `out_dir`, so a failed run changes nothing there.
    """
    out_dir = Path(out_dir)
    sums = read_checksums(checksum_file)
    by_task = _files_by_task(sums)
    wanted = _resolve_tasks(tasks, list(by_task))
    skipped: dict[str, str] = {}

    if source is not None:
        source = Path(source)
        if not source.is_dir():
            raise SeminalError("GLUE source folder not found", source)
        avail = available_tasks(source, sums.path)
        if wanted is None:
            chosen = [t for t in by_task if not avail[t]]
            skipped = {t: f"missing in {source}: {', '.join(avail[t])}" for t in by_task if avail[t]}
        else:
            for t in wanted:
                if avail[t]:
                    raise SeminalError(f"task {t}: file missing in the GLUE folder", source / avail[t][0])
            chosen = wanted
        if not chosen:
            raise SeminalError("no complete GLUE task in this folder (expected the official layout, "
                               "e.g. CoLA/train.tsv)", source)
    else:
        chosen = list(by_task) if wanted is None else wanted

    cache = Path(cache_dir) if cache_dir else out_dir.parent / f".{out_dir.name}.downloads"
    staging = _staging_dir(out_dir)
    try:
        for task in chosen:
            if source is not None:
                _copy_local(source, staging, task, by_task[task])
            else:
                _download_task(task, by_task[task], staging, cache, base_url, retries, timeout, backoff)
        files = [r for t in chosen for r in by_task[t]]
        try:
            report = verify_tree(staging, sums, files)
        except ChecksumError as e:
            if source is not None:
                raise SeminalError(f"{e.reason}; nothing was written to {out_dir}", source / e.rel) from e
            shutil.rmtree(cache, ignore_errors=True)  # a corrupt download must not be reused
            task = _task_of_folder(e.rel.split("/", 1)[0])
            src = GLUE_SOURCES[task] if task else None
            origin = _official_url(src.name, base_url) if src and src.name else base_url or GLUE_BASE_URL
            raise SeminalError(f"{e.reason}; downloaded from {origin}; nothing was written to {out_dir}",
                               e.rel) from e
        report.root = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        _move_into(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if cache.is_dir() and not any(cache.iterdir()):
            cache.rmdir()
        raise
    if source is None:
        shutil.rmtree(cache, ignore_errors=True)
    return PrepareResult(out_dir, chosen, skipped, report)


# --------------------------------------------------------------------------------------------
# CLI


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help="the GLUE data root to write (e.g. data/glue)")
    p.add_argument("--from", dest="source", type=Path, help="copy from this folder in the GLUE layout "
                   "instead of downloading")
    p.add_argument("--tasks", nargs="+", help="GLUE tasks (default: all; with --from, all those present)")
    p.add_argument("--base-url", help="download every file from this URL instead of the official locations")
    p.add_argument("--checksums", type=Path, default=Path("config/benchmarks/glue.sha256"),
                   help="sha256sum-format list of the files to verify")
    p.add_argument("--retries", type=int, default=3)
    p.add_argument("--timeout", type=float, default=60, help="seconds without data before a retry")


def run_download(a: argparse.Namespace) -> None:
    result = prepare_glue(a.out, a.source, a.checksums, tasks=a.tasks, base_url=a.base_url,
                          retries=a.retries, timeout=a.timeout)
    for line in result.lines():
        print(line, file=sys.stderr)


def main_download(argv: Sequence[str] | None = None) -> int:
    """`seminal download-glue --out DIR [--from DIR] [--tasks ...] [--base-url URL]`."""
    p = argparse.ArgumentParser(prog="seminal download-glue",
                                description="download (or copy) and verify the GLUE benchmark files")
    add_arguments(p)
    a = p.parse_args(argv)
    try:
        run_download(a)
    except SeminalError as e:
        print(f"seminal download-glue: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main_download())
