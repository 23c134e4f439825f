"""The paper column: papers' reported numbers beside ours for the same task and metric."""

from __future__ import annotations

from pathlib import Path

import pytest

from seminal.errors import SeminalError
from seminal.reported import load_reported, paper_markdown

ROOT = Path(__file__).resolve().parents[1]


def record(model: str, task: str, seed: int, **metrics: float) -> dict:
    return {"model": model, "task": task, "seed": seed, "eval": {task: {"dev": {"metrics": metrics}}}}


def test_shipped_reported_files_load_and_name_real_rows() -> None:
    reported = load_reported(ROOT / "papers")
    by_row = {(r.model, r.task, r.metric): r.value for r in reported}
    assert by_row[("kim_cnn_rand", "SST-2", "acc")] == 82.7  # Kim 2014 Table 2
    assert by_row[("bilstm", "CoLA", "mcc")] == 15.7  # GLUE paper Table 4
    assert by_row[("elmo", "MRPC", "f1")] == 80.8
    models = {p.stem for p in (ROOT / "config/models").glob("*.yaml")}
    assert {r.model.split(".")[0] for r in reported} <= models


def test_difference_is_ours_minus_paper_over_the_seeds(tmp_path: Path) -> None:
    (tmp_path / "kim2014").mkdir()
    (tmp_path / "kim2014/reported.yaml").write_text(
        "glue_rows:\n  source: Kim 2014, Table 2, SST-2 test set\n  rows:\n"
        "    kim_cnn_rand: {SST-2.acc: 82.7, CoLA.mcc: 10.0}\n")
    records = [record("kim_cnn_rand", "SST-2", 0, acc=0.80), record("kim_cnn_rand", "SST-2", 1, acc=0.84),
               record("bilstm", "SST-2", 0, acc=0.99)]
    md = paper_markdown(records, load_reported(tmp_path), "glue")
    assert "| kim_cnn_rand | SST-2 | acc | 82.0 ± 2.8 (n=2) | 82.7 | -0.7 | Kim 2014, Table 2, SST-2 test set |" in md
    assert "CoLA" not in md.split("|---")[-1]  # not run: no line
    assert "No paper reports" in paper_markdown(records, load_reported(tmp_path), "synglue")


def test_constant_predictor_cells_are_marked(tmp_path: Path) -> None:
    """A degenerate run's accuracy is the split's class balance: the column says so, as table.md does."""
    (tmp_path / "brown2020").mkdir()
    (tmp_path / "brown2020/reported.yaml").write_text(
        "glue_rows:\n  source: GPT-3 Small, RTE dev\n  rows:\n    gpt_small.0shot: {RTE.acc: 47.7}\n"
        "    gpt_small.1shot: {RTE.acc: 53.1}\n")
    records = [record("gpt_small.0shot", "RTE", 0, acc=0.56), record("gpt_small.1shot", "RTE", 0, acc=0.60)]
    md = paper_markdown(records, load_reported(tmp_path), "glue", {("gpt_small.0shot", "RTE.dev")})
    assert "| gpt_small.0shot | RTE | acc | 56.0 (n=1) † | 47.7 | +8.3 |" in md
    assert "| gpt_small.1shot | RTE | acc | 60.0 (n=1) | 53.1 | +6.9 |" in md
    assert md.rstrip().endswith("not a comparison.")
    assert "†" not in paper_markdown(records, load_reported(tmp_path), "glue")


def test_malformed_section_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x/reported.yaml").write_text("glue_rows:\n  source: s\n  rows:\n    bilstm: {CoLA: 15.7}\n")
    with pytest.raises(SeminalError, match="x/reported.yaml.*Task.metric"):
        load_reported(tmp_path)
