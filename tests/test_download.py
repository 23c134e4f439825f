"""GLUE download, safe extraction and verification, offline: a real HTTP server on 127.0.0.1.

The archives are built by the tests in tmp_path from the real files in ../shared/data/glue (never
copied into the repository), so a successful download must reproduce the official checksums.
"""

from __future__ import annotations

import hashlib
import re
import stat
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from seminal.download import (
    build_mrpc,
    extract_zip,
    fetch,
    main_download,
    prepare_glue,
    read_checksums,
    verify_tree,
)
from seminal.errors import SeminalError
from seminal.io import read_yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO.parent / "shared" / "data").resolve()
GLUE_ROOT = SHARED / "glue"
GLUE_SUMS = REPO / "config" / "benchmarks" / "glue.sha256"

needs_glue = pytest.mark.skipif(not GLUE_ROOT.is_dir(), reason=f"real GLUE files not found at {GLUE_ROOT} "
                                "(../shared/data/glue beside the project)")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------------------------
# A small HTTP server with switchable misbehaviour


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        srv = self.server
        name = self.path.lstrip("/")
        rng = self.headers.get("Range")
        srv.requests.append((name, rng))
        body = srv.files.get(name)
        if body is None:
            self.send_error(404)
            return
        if srv.truncate.get(name, 0) > 0:  # announce the full length, send half, hang up
            srv.truncate[name] -= 1
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        start = 0
        if rng and srv.ranges:
            start = int(re.fullmatch(r"bytes=(\d+)-", rng).group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        srv.sent[name] = srv.sent.get(name, 0) + len(body) - start  # before the write: the client may
        self.wfile.write(body[start:])                              # check it as soon as it has the bytes


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.files, srv.requests, srv.truncate, srv.ranges, srv.sent = {}, [], {}, True, {}
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def zip_bytes(tmp_path: Path, name: str, members: dict[str, bytes]) -> bytes:
    path = tmp_path / "built" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in members.items():
            z.writestr(member, data)
    return path.read_bytes()


def task_zip(tmp_path: Path, folder: str, **replace: bytes) -> bytes:
    """`folder`.zip as GLUE ships it: folder/<split>.tsv (+ an extra member that is not needed)."""
    members = {f"{folder}/{p.name}": replace.get(p.stem, p.read_bytes()) for p in sorted((GLUE_ROOT / folder).iterdir())}
    members[f"{folder}/original/README"] = b"not read by the pipeline\n"
    return zip_bytes(tmp_path, f"{folder}.zip", members)


def microsoft_mrpc(dest: Path) -> None:
    """Microsoft's msr_paraphrase_{train,test}.txt and GLUE's dev ids, rebuilt from the shared MRPC files.

    train: Microsoft's header (with its byte-order mark), then dev rows and train rows; test: the
    quality column back in place of the index. Building them must give the official files again.
    """
    train = (GLUE_ROOT / "MRPC" / "train.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    dev = (GLUE_ROOT / "MRPC" / "dev.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    test = (GLUE_ROOT / "MRPC" / "test.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    assert train[0] == dev[0] and train[0].startswith("\ufeffQuality")
    (dest / "msr_paraphrase_train.txt").write_text("".join([train[0], *dev[1:], *train[1:]]), encoding="utf-8")
    rows = ["\t".join(["1", *line.split("\t")[1:]]) for line in test[1:]]
    (dest / "msr_paraphrase_test.txt").write_text("\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
                                                  + "".join(rows), encoding="utf-8")
    (dest / "mrpc_dev_ids.tsv").write_text("".join("\t".join(line.split("\t")[1:3]) + "\n" for line in dev[1:]),
                                           encoding="utf-8")


def leftovers(root: Path) -> list[str]:
    """Temporary folders, partial files or download caches under `root`."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.name.endswith((".tmp", ".part")) or p.name.endswith(".downloads"))


# ----------------------------------------------------------------------------------------------
# Download of the GLUE files from the official-layout server


@needs_glue
def test_download_builds_verified_glue_tree(tmp_path, server):
    server.files["CoLA.zip"] = task_zip(tmp_path, "CoLA")
    server.files["RTE.zip"] = task_zip(tmp_path, "RTE")
    server.files["WNLI.zip"] = task_zip(tmp_path, "WNLI")
    server.files["STS-B.zip"] = task_zip(tmp_path, "STS-B")
    server.files["AX.tsv"] = (GLUE_ROOT / "diagnostic" / "diagnostic.tsv").read_bytes()
    ms = tmp_path / "ms"
    ms.mkdir()
    microsoft_mrpc(ms)
    for f in ms.iterdir():
        server.files[f.name] = f.read_bytes()
    out = tmp_path / "data" / "glue"

    result = prepare_glue(out, None, GLUE_SUMS, tasks=["CoLA", "RTE", "WNLI", "STS-B", "diagnostic", "MRPC"],
                          base_url=server.url, backoff=0)

    expected = [f"{t}/{s}.tsv" for t in ["CoLA", "RTE", "WNLI", "STS-B", "MRPC"] for s in ["train", "dev", "test"]]
    assert sorted(result.report.verified) == sorted(expected + ["diagnostic/diagnostic.tsv"])
    assert result.report.unverified == {}
    for rel in result.report.verified:  # byte-identical to the official files, MRPC included
        assert (out / rel).read_bytes() == (GLUE_ROOT / rel).read_bytes(), rel
    assert (out / "STS-B" / "LICENSE.txt").is_file()  # the licence travels with the data
    assert not (out / "CoLA" / "original").exists()  # only what is needed is extracted
    assert (out / "MRPC" / "dev_ids.tsv").is_file()  # kept where the official script keeps it
    assert leftovers(tmp_path / "data") == []
    assert {name for name, _ in server.requests} == set(server.files)


@needs_glue
def test_checksum_mismatch_names_the_file_and_writes_nothing(tmp_path, server):
    dev = (GLUE_ROOT / "CoLA" / "dev.tsv").read_bytes()
    server.files["CoLA.zip"] = task_zip(tmp_path, "CoLA", dev=dev.replace(b"\t1\t", b"\t0\t", 1))
    out = tmp_path / "data" / "glue"

    with pytest.raises(SeminalError) as err:
        prepare_glue(out, None, GLUE_SUMS, tasks=["CoLA"], base_url=server.url, backoff=0)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("CoLA/dev.tsv: sha256 mismatch") and f"{server.url}/CoLA.zip" in msg
    assert not out.exists()
    assert leftovers(tmp_path / "data") == []


def test_fetch_checksum_mismatch_leaves_nothing(tmp_path, server):
    server.files["x.bin"] = b"abc" * 1000
    dest = tmp_path / "x.bin"
    with pytest.raises(SeminalError, match=r"x\.bin: sha256 mismatch.*deleted") as err:
        fetch(f"{server.url}/x.bin", dest, sha256=sha(b"something else"), backoff=0)
    assert "\n" not in str(err.value)
    assert not dest.exists() and not (tmp_path / "x.bin.part").exists()
    fetch(f"{server.url}/x.bin", dest, sha256=sha(b"abc" * 1000), backoff=0)
    assert dest.read_bytes() == b"abc" * 1000


def test_fetch_http_404_is_an_error_without_retry(tmp_path, server):
    with pytest.raises(SeminalError, match=r"HTTP 404.*/missing\.zip"):
        fetch(f"{server.url}/missing.zip", tmp_path / "m.zip", retries=3, backoff=0)
    assert len(server.requests) == 1 and not list(tmp_path.iterdir())


def test_truncated_transfer_is_an_error_and_nothing_is_at_dest(tmp_path, server):
    body = bytes(range(256)) * 400
    server.files["AX.tsv"] = body
    server.truncate["AX.tsv"] = 99  # every attempt is cut short
    server.ranges = False
    dest = tmp_path / "AX.tsv"

    with pytest.raises(SeminalError) as err:
        fetch(f"{server.url}/AX.tsv", dest, retries=2, backoff=0)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{dest}: download failed after 3 attempts: truncated transfer: got 51200 of 102400")
    assert f"{server.url}/AX.tsv" in msg
    assert not dest.exists()
    assert len(server.requests) == 3


@needs_glue
def test_truncated_download_leaves_no_glue_tree(tmp_path, server):
    server.files["CoLA.zip"] = task_zip(tmp_path, "CoLA")
    server.truncate["CoLA.zip"] = 99
    out = tmp_path / "data" / "glue"
    with pytest.raises(SeminalError, match="truncated transfer"):
        prepare_glue(out, None, GLUE_SUMS, tasks=["CoLA"], base_url=server.url, retries=1, backoff=0)
    assert not out.exists()
    assert not list((tmp_path / "data").glob(".glue.*.tmp"))  # no half-built tree


def test_resume_from_part_with_range(tmp_path, server):
    body = bytes(range(256)) * 1000
    server.files["MNLI.zip"] = body
    dest = tmp_path / "MNLI.zip"
    (tmp_path / "MNLI.zip.part").write_bytes(body[:100_000])

    fetch(f"{server.url}/MNLI.zip", dest, sha256=sha(body), backoff=0)

    assert dest.read_bytes() == body
    assert server.requests == [("MNLI.zip", "bytes=100000-")]
    assert server.sent["MNLI.zip"] == len(body) - 100_000  # only the missing bytes travelled
    assert not (tmp_path / "MNLI.zip.part").exists()


def test_dropped_connection_is_resumed_on_retry(tmp_path, server):
    body = bytes(range(256)) * 1000
    server.files["QQP-clean.zip"] = body
    server.truncate["QQP-clean.zip"] = 1  # the first transfer is cut in half
    dest = tmp_path / "QQP-clean.zip"

    fetch(f"{server.url}/QQP-clean.zip", dest, sha256=sha(body), retries=1, backoff=0)

    assert dest.read_bytes() == body
    assert server.requests == [("QQP-clean.zip", None), ("QQP-clean.zip", f"bytes={len(body) // 2}-")]


def test_server_without_range_support_restarts_cleanly(tmp_path, server):
    body = b"0123456789" * 5000
    server.files["f.zip"] = body
    server.ranges = False
    dest = tmp_path / "f.zip"
    (tmp_path / "f.zip.part").write_bytes(b"garbage that is not a prefix")

    fetch(f"{server.url}/f.zip", dest, sha256=sha(body), backoff=0)

    assert dest.read_bytes() == body  # the 200 reply replaced the .part instead of being appended to it


# ----------------------------------------------------------------------------------------------
# Safe extraction


def _evil_zip(path: Path, member: str, symlink_to: str | None = None) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("CoLA/train.tsv", b"fine\n")
        info = zipfile.ZipInfo(member)
        if symlink_to is not None:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, symlink_to)
        else:
            z.writestr(info, b"pwned\n")


@pytest.mark.parametrize("kind", ["dotdot", "dotdot-backslash", "absolute", "symlink"])
def test_malicious_archive_is_refused_and_nothing_is_written(tmp_path, kind):
    victim = tmp_path / "evil.txt"
    member, target = {
        "dotdot": ("../evil.txt", None),
        "dotdot-backslash": ("CoLA\\..\\..\\evil.txt", None),
        "absolute": (str(victim), None),
        "symlink": ("CoLA/link", "../../evil.txt"),
    }[kind]
    archive = tmp_path / "CoLA.zip"
    _evil_zip(archive, member, target)
    out = tmp_path / "out" / "glue"

    with pytest.raises(SeminalError) as err:
        extract_zip(archive, out)
    msg = str(err.value)
    assert msg.startswith(f"{archive}: unsafe member {member!r}") and "\n" not in msg
    assert not victim.exists() and not out.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["CoLA.zip"]  # refused before writing anything


def test_malicious_archive_from_the_server_is_refused(tmp_path, server):
    _evil_zip(tmp_path / "CoLA.zip", "../../evil.txt")
    server.files["CoLA.zip"] = (tmp_path / "CoLA.zip").read_bytes()
    out = tmp_path / "data" / "glue"
    with pytest.raises(SeminalError, match=r"CoLA\.zip: unsafe member '\.\./\.\./evil\.txt'"):
        prepare_glue(out, None, GLUE_SUMS, tasks=["CoLA"], base_url=server.url, backoff=0)
    assert not out.exists() and not (tmp_path / "evil.txt").exists()
    assert not list((tmp_path / "data").glob(".glue.*.tmp"))


def test_corrupt_zip_is_a_clear_error(tmp_path):
    archive = tmp_path / "RTE.zip"
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(SeminalError, match=r"RTE\.zip: not a valid zip archive"):
        extract_zip(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_extract_into_existing_folder_replaces_only_the_extracted_entries(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("RTE/train.tsv", b"new\n")
        z.writestr("RTE/skip.tsv", b"not wanted\n")
    out = tmp_path / "glue"
    (out / "RTE").mkdir(parents=True)
    (out / "RTE" / "train.tsv").write_bytes(b"old\n")
    (out / "tokenizer").mkdir()
    fresh = tmp_path / "fresh"
    assert extract_zip(archive, fresh) == ["RTE/train.tsv", "RTE/skip.tsv"]
    assert fresh.stat().st_mode & 0o077 != 0  # a normal folder, not mkdtemp's private 0700
    assert extract_zip(archive, out, ["RTE/train.tsv"]) == ["RTE/train.tsv"]
    assert (out / "RTE" / "train.tsv").read_bytes() == b"new\n"
    assert not (out / "RTE" / "skip.tsv").exists() and (out / "tokenizer").is_dir()
    assert sorted(p.name for p in out.iterdir()) == ["RTE", "tokenizer"]
    with pytest.raises(SeminalError, match=r"member 'RTE/dev\.tsv' not in archive"):
        extract_zip(archive, out, ["RTE/dev.tsv"])


# ----------------------------------------------------------------------------------------------
# A local folder in the GLUE layout


@needs_glue
def test_local_folder_is_copied_and_verified(tmp_path, capsys):
    out = tmp_path / "data" / "glue"
    rc = main_download(["--out", str(out), "--from", str(GLUE_ROOT), "--checksums", str(GLUE_SUMS)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "GLUE tasks ready: CoLA, SST-2, MRPC, STS-B, RTE, WNLI, AX" in err
    assert "19 files verified" in err  # QNLI (dev, test) is not prepared without its train.tsv
    # tasks absent from the folder get a clear message instead of a crash
    assert "task MNLI not prepared: missing in" in err and "task QQP not prepared" in err
    assert "task QNLI not prepared: missing in" in err and "QNLI/train.tsv" in err
    for rel in read_checksums(GLUE_SUMS).known:
        if not rel.startswith("QNLI/"):
            assert (out / rel).read_bytes() == (GLUE_ROOT / rel).read_bytes()
    assert not (out / "QNLI").exists()
    assert leftovers(tmp_path) == []


@needs_glue
def test_local_folder_missing_requested_task_and_modified_file(tmp_path, capsys):
    out = tmp_path / "data" / "glue"
    rc = main_download(["--out", str(out), "--from", str(GLUE_ROOT), "--checksums", str(GLUE_SUMS),
                        "--tasks", "MNLI"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and err.startswith("seminal download-glue: error: ") and "\n" not in err
    assert str(GLUE_ROOT / "MNLI" / "train.tsv") in err
    assert not out.exists()

    local = tmp_path / "local"
    (local / "WNLI").mkdir(parents=True)
    for split in ["train", "dev", "test"]:
        data = (GLUE_ROOT / "WNLI" / f"{split}.tsv").read_bytes()
        (local / "WNLI" / f"{split}.tsv").write_bytes(data + b"x" if split == "test" else data)
    with pytest.raises(SeminalError) as e:
        prepare_glue(out, local, GLUE_SUMS)
    assert str(e.value).startswith(f"{local / 'WNLI' / 'test.tsv'}: sha256 mismatch")
    assert f"nothing was written to {out}" in str(e.value)
    assert not out.exists() and leftovers(tmp_path) == []


# ----------------------------------------------------------------------------------------------
# MRPC, as download_glue_data.py builds it


def test_mrpc_built_from_microsoft_format(tmp_path):
    header = "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String"
    train = [
        header,
        '1\t101\t102\tHe said "yes" .\tHe agreed .',
        "0\t201\t202\tA cat sat.\tA dog ran. ",
        "1\t301\t302\tPrices rose 5%.\tPrices went up 5 percent.",
        "0\t401\t402\tOne.\tTwo.",
    ]
    test = [header, "1\t501\t502\tFirst test.\tFirst exam.", "0\t601\t602\tSecond test.\tAnother one."]
    # Windows line ends in train, Unix ones in test: both are read alike (universal newlines)
    (tmp_path / "msr_paraphrase_train.txt").write_bytes("".join(f"{row}\r\n" for row in train).encode("utf-8"))
    (tmp_path / "msr_paraphrase_test.txt").write_text("".join(f"{row}\n" for row in test), encoding="utf-8")
    (tmp_path / "dev_ids.tsv").write_text("201\t202\n401\t402\n", encoding="utf-8")
    out = tmp_path / "MRPC"

    build_mrpc(tmp_path / "msr_paraphrase_train.txt", tmp_path / "msr_paraphrase_test.txt",
               tmp_path / "dev_ids.tsv", out)

    head = header + "\n"
    assert (out / "train.tsv").read_text(encoding="utf-8") == head + (
        '1\t101\t102\tHe said "yes" .\tHe agreed .\n'
        "1\t301\t302\tPrices rose 5%.\tPrices went up 5 percent.\n")
    assert (out / "dev.tsv").read_text(encoding="utf-8") == head + (
        "0\t201\t202\tA cat sat.\tA dog ran.\n"  # rows are strip()ped, as the official script does
        "0\t401\t402\tOne.\tTwo.\n")
    assert (out / "test.tsv").read_text(encoding="utf-8") == (
        "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
        "0\t501\t502\tFirst test.\tFirst exam.\n"
        "1\t601\t602\tSecond test.\tAnother one.\n")
    assert b"\r" not in (out / "train.tsv").read_bytes()


def test_mrpc_malformed_row_names_file_and_line(tmp_path):
    (tmp_path / "train.txt").write_text("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tonly four\n",
                                        encoding="utf-8")
    (tmp_path / "test.txt").write_text("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n", encoding="utf-8")
    (tmp_path / "ids.tsv").write_text("", encoding="utf-8")
    with pytest.raises(SeminalError, match=r"train\.txt:2: expected 5 tab-separated fields"):
        build_mrpc(tmp_path / "train.txt", tmp_path / "test.txt", tmp_path / "ids.tsv", tmp_path / "MRPC")
    assert not (tmp_path / "MRPC" / "train.tsv").exists()


@needs_glue
def test_mrpc_build_reproduces_the_official_checksums(tmp_path):
    microsoft_mrpc(tmp_path)
    build_mrpc(tmp_path / "msr_paraphrase_train.txt", tmp_path / "msr_paraphrase_test.txt",
               tmp_path / "mrpc_dev_ids.tsv", tmp_path / "MRPC")
    sums = read_checksums(GLUE_SUMS).known
    for split in ["train", "dev", "test"]:
        assert sha((tmp_path / "MRPC" / f"{split}.tsv").read_bytes()) == sums[f"MRPC/{split}.tsv"], split


# ----------------------------------------------------------------------------------------------
# The committed checksum file and the verifier


def test_committed_checksums_cover_every_glue_file():
    spec = read_yaml(REPO / "config" / "benchmarks" / "glue.yaml")
    needed = {split["file"] for task in spec["tasks"].values() for split in task["splits"].values()}
    sums = read_checksums(GLUE_SUMS)
    assert set(sums.files) == needed
    assert set(sums.unverified) == {"QQP/train.tsv", "QQP/dev.tsv", "QQP/test.tsv", "QNLI/train.tsv",
                                    *(f"MNLI/{s}.tsv" for s in ["train", "dev_matched", "dev_mismatched",
                                                                "test_matched", "test_mismatched"])}
    shared_sums = SHARED / "SHA256SUMS"
    if shared_sums.is_file():  # every known checksum is the official file's
        official = dict(reversed(line.split(maxsplit=1)) for line in shared_sums.read_text().splitlines())
        for rel, digest in sums.known.items():
            assert official[f"glue/{rel}"] == digest, rel


def test_verify_tree_reports_unverified_and_fails_on_missing_or_changed(tmp_path):
    root = tmp_path / "glue"
    (root / "RTE").mkdir(parents=True)
    (root / "QQP").mkdir()
    (root / "RTE" / "dev.tsv").write_bytes(b"a\n")
    (root / "QQP" / "dev.tsv").write_bytes(b"q\n")
    sums = tmp_path / "s.sha256"
    digest = sha(b"a\n")
    sums.write_text(f"# comment\n{digest}  RTE/dev.tsv\n# unverified  QQP/dev.tsv\n", encoding="utf-8")

    report = verify_tree(root, sums)
    assert report.verified == ["RTE/dev.tsv"]
    assert report.unverified == {"QQP/dev.tsv": sha(b"q\n")}
    assert any("UNVERIFIED" in line and "QQP/dev.tsv" in line for line in report.lines())

    (root / "QQP" / "dev.tsv").unlink()
    with pytest.raises(SeminalError, match=r"QQP/dev\.tsv: missing"):
        verify_tree(root, sums)
    (root / "RTE" / "dev.tsv").write_bytes(b"b\n")
    with pytest.raises(SeminalError, match=r"RTE/dev\.tsv: sha256 mismatch"):
        verify_tree(root, sums, ["RTE/dev.tsv"])

    sums.write_text("not a checksum line\n", encoding="utf-8")
    with pytest.raises(SeminalError, match=r"s\.sha256:1: not a sha256sum line"):
        verify_tree(root, sums)
    sums.write_text(f"{sha(b'a')}  ../etc/passwd\n", encoding="utf-8")
    with pytest.raises(SeminalError, match=r"s\.sha256:1: path '\.\./etc/passwd' must be relative"):
        verify_tree(root, sums)
