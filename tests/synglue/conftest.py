"""One small synglue benchmark, generated once per test session and shared by every test,
and the helpers the synglue tests share (as fixtures: a conftest is not for importing)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from seminal.synglue import SynGlueConfig, generate

SMALL = SynGlueConfig(seed=0, train_size=1500, dev_size=500, test_size=300, diagnostic_size=300,
                      corpus_tokens=50_000, max_distance=14)
REPO = Path(__file__).resolve().parents[2]


def _read_tsv(path: Path) -> list[list[str]]:
    """Rows of a GLUE file as the official loaders read it: no quoting, BOM tolerated."""
    lines = path.read_bytes().decode("utf-8-sig").split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.split("\t") for line in lines]


@pytest.fixture(scope="session")
def small_cfg() -> SynGlueConfig:
    return SMALL


@pytest.fixture(scope="session")
def synglue_dir(tmp_path_factory, small_cfg) -> Path:
    out = tmp_path_factory.mktemp("synglue")
    generate(out, small_cfg)
    return out


@pytest.fixture(scope="session")
def spec_path() -> Path:
    return REPO / "config" / "benchmarks" / "synglue.yaml"


@pytest.fixture(scope="session")
def glue_dir() -> Path:
    """The real GLUE files (../shared/data/glue), where present."""
    return REPO.parent / "shared" / "data" / "glue"


@pytest.fixture(scope="session")
def read_tsv() -> Callable[[Path], list[list[str]]]:
    return _read_tsv
