"""DVC against a second, shared remote: a WebDAV server (wsgidav, from PyPI) on 127.0.0.1, added beside
the repository's default local-folder remote the way the README says (`dvc remote add shared
webdav://…`). A tiny DVC repository pushes its stage outputs there over HTTP, loses its cache and
outputs, pulls them back from the server and gets the same bytes."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent  # the venv's dvc and wsgidav


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webdav(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(url, folder it serves) of a running WebDAV server; ended (its process group) afterwards."""
    root = tmp_path / "webdav"
    (root / "store").mkdir(parents=True)  # WebDAV creates no missing parents: the remote's folder exists
    port = _free_port()
    log = tmp_path / "webdav.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(BIN / "wsgidav"), "--host", "127.0.0.1", "--port", str(port), "--root", str(root),
                                 "--auth", "anonymous", "--no-config", "-q"],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, f"wsgidav exited {proc.returncode}:\n{log.read_text()[-2000:]}"
                assert time.monotonic() < deadline, f"wsgidav not listening after 60 s:\n{log.read_text()[-2000:]}"
                time.sleep(0.1)
        yield f"webdav://127.0.0.1:{port}/store", root
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def sh(args: list[str], cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DVC_", "MLFLOW_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["DVC_NO_ANALYTICS"] = "1"
    proc = subprocess.run(args, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def digests(folder: Path) -> dict[str, str]:
    """sha256 of each file DVC tracks under `folder` (not the .gitignore it writes there for git)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".gitignore"}


def test_push_to_a_webdav_remote_then_pull_the_same_bytes(webdav: tuple[str, Path], tmp_path: Path) -> None:
    url, served = webdav
    repo = tmp_path / "repo"
    repo.mkdir()
    sh(["git", "init", "-q", "-b", "main"], repo)
    sh(["dvc", "init", "-q"], repo)
    # Like the project: a default remote in a local folder, and one stage whose outputs DVC tracks.
    sh(["dvc", "remote", "add", "-d", "default", str(tmp_path / "local-remote")], repo)
    (repo / "make.py").write_text(
        "import os, pathlib\n"
        "out = pathlib.Path('results/runs'); out.mkdir(parents=True, exist_ok=True)\n"
        "(out / 'metrics.json').write_text('{\"acc\": 0.5}\\n')\n"
        "(out / 'weights.bin').write_bytes(os.urandom(200_000))\n"
        "pathlib.Path('results/table.md').write_text('| model | acc |\\n|---|---|\\n| m | 50.0 |\\n')\n")
    (repo / "dvc.yaml").write_text(
        "stages:\n  replicate:\n    cmd: python make.py\n    deps: [make.py]\n"
        "    outs: [results/runs, results/table.md]\n")
    sh(["dvc", "repro", "-q"], repo)
    before = digests(repo / "results")
    assert len(before) == 3

    # The second, shared remote (README: "dvc remote add -d shared …"); --local keeps it out of git.
    sh(["dvc", "remote", "add", "--local", "shared", url], repo)
    sh(["dvc", "push", "-r", "shared"], repo)
    stored = [p for p in (served / "store").rglob("*") if p.is_file()]
    assert len(stored) >= 4, stored  # 3 files + the directory's listing, under files/md5/ on the server
    assert not (tmp_path / "local-remote").exists()  # nothing went to the default remote

    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / "results" / "runs")
    (repo / "results" / "table.md").unlink()
    sh(["dvc", "pull", "-r", "shared"], repo)
    assert digests(repo / "results") == before
    assert "in sync" in sh(["dvc", "status", "-c", "-r", "shared"], repo)
    assert "up to date" in sh(["dvc", "status"], repo)
