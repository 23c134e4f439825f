"""Atomic outputs under a full disk: a clear error naming the target, the earlier file intact,
no temporary file left behind; the CLI turns any OSError into one line and exit status 1."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest

import seminal.cli
import seminal.io
from seminal.cli import main
from seminal.errors import SeminalError
from seminal.io import save_npy, write_json


class _FullDisk:
    """A file object that accepts `room` bytes, then fails like a full disk (ENOSPC)."""

    def __init__(self, f, room: int):
        self.f, self.room = f, room

    def write(self, data):
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


@pytest.fixture
def full_disk(monkeypatch):
    real_open = open
    monkeypatch.setattr(seminal.io, "open", lambda *a, **k: _FullDisk(real_open(*a, **k), room=10), raising=False)


def test_full_disk_keeps_the_earlier_output(tmp_path: Path, full_disk) -> None:
    target = tmp_path / "metrics.json"
    target.write_text('{"old": 1}\n')
    with pytest.raises(SeminalError, match=r"metrics.json: cannot write \(No space left on device\)"):
        write_json(target, {"new": list(range(100))})
    assert target.read_text() == '{"old": 1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]  # no .tmp left


def test_full_disk_while_saving_an_array(tmp_path: Path, full_disk) -> None:
    target = tmp_path / "ids.npy"
    with pytest.raises(SeminalError, match="ids.npy: cannot write"):
        save_npy(target, np.arange(1000))
    assert list(tmp_path.iterdir()) == []


def test_cli_reports_an_os_error_in_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    def fail(a):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x.pt"))

    monkeypatch.setitem(seminal.cli.COMMANDS, "show", fail)
    assert main(["show"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and "x.pt" in err
