"""`seminal summary`, `compare` and `show`: what people read of a finished run."""

from __future__ import annotations

from pathlib import Path

import pytest

from seminal.cli import main
from seminal.errors import SeminalError
from seminal.io import write_json
from seminal.runs import compare, scores, summary


def make_run(d: Path, model: str, acc: float, seed: int = 0) -> Path:
    write_json(d / "metrics.json", {
        "benchmark": "synglue", "model": model, "task": "RTE", "seed": seed, "params": 1234,
        "best_epoch": 2, "history": [{"epoch": 1}, {"epoch": 2}], "data_hash": "abc.dir", "git_commit": "deadbeef",
        "eval": {"RTE": {"dev": {"metrics": {"acc": acc}, "n": 10,
                                 "buckets": {"10+": {"acc": 0.5, "n": 4}, "1-2": {"acc": 1.0, "n": 6}}}}}})
    write_json(d / "cost.json", {"train_seconds": 3.0, "cpu_seconds": 2.5, "threads": 1})
    write_json(d / "run.json", {"mlflow_run_id": "r123"})
    return d


def test_summary_names_scores_buckets_cost_and_provenance(tmp_path: Path) -> None:
    text = summary(make_run(tmp_path / "a", "kim", 0.7))
    assert "kim on RTE (seed 0, benchmark synglue)" in text
    for part in ["1,234", "best epoch     2 of 2", "3.0 s wall, 2.5 s CPU", "deadbeef", "abc.dir", "r123",
                 "RTE.dev.acc", "0.7000"]:
        assert part in text, part
    assert text.index("1-2: 1.000 (n=6)") < text.index("10+: 0.500 (n=4)")  # buckets in distance order


def test_compare_shows_the_difference(tmp_path: Path) -> None:
    text = compare(make_run(tmp_path / "a", "kim", 0.7), make_run(tmp_path / "b", "bert", 0.75, seed=1))
    assert "kim/seed0" in text and "bert/seed1" in text
    assert "+0.0500" in text


def test_pretraining_scores_are_the_held_out_stats() -> None:
    assert scores({"valid": {"step": 9, "ppl": 3.5, "lm_loss": 1.25}}) == {"valid.ppl": 3.5, "valid.lm_loss": 1.25}


def test_errors_are_one_line_naming_the_folder(tmp_path: Path, capsys) -> None:
    with pytest.raises(SeminalError, match="no metrics.json"):
        summary(tmp_path)
    assert main(["summary", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path) in err
    assert main(["show", "--table", str(tmp_path / "table.md")]) == 1
    assert "no results table yet" in capsys.readouterr().err


def test_show_prints_the_table(tmp_path: Path, capsys) -> None:
    (tmp_path / "table.md").write_text("| Model |\n", encoding="utf-8")
    assert main(["show", "--table", str(tmp_path / "table.md")]) == 0
    assert "| Model |" in capsys.readouterr().out
