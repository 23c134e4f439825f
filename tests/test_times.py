"""`seminal times`: Snakemake benchmark files summed per rule and per model, on hand-made files."""

from __future__ import annotations

from pathlib import Path

import pytest

from seminal.cli import main
from seminal.errors import SeminalError
from seminal.times import Job, read_job, read_jobs, report

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time"


def tsv(path: Path, *rows: tuple[float | str, float | str, float | str]) -> None:
    """A file as Snakemake writes it; each row (wall s, max_rss MB, cpu_time s)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [HEADER] + [f"{s}\t0:00:00\t{rss}\t1.0\t1.0\t1.0\t0.0\t0.0\t50.0\t{cpu}" for s, rss, cpu in rows]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    b = tmp_path / "benchmarks"
    tsv(b / "generate_synglue.tsv", (24.0, 40.0, 20.0))
    tsv(b / "train_tokenizer.tsv", (9.0, 50.0, "NA"))  # NA: not measured, counts 0
    tsv(b / "pretrain/bert.tsv", (300.0, 500.0, 290.0))
    tsv(b / "train/bert/RTE.tsv", (50.0, 300.0, 45.0))
    tsv(b / "train/bert/CoLA.tsv", (30.0, 320.0, 28.0), (32.0, 310.0, 29.0))  # repeat(2): both runs count
    tsv(b / "icl/gpt_small/RTE.tsv", (10.0, 200.0, 9.0))
    return b


def test_rule_and_model_come_from_the_path(bench: Path) -> None:
    assert read_job(bench / "train/bert/CoLA.tsv", bench) == Job("train", "bert", 62.0, 57.0, 320.0)
    assert read_job(bench / "pretrain/bert.tsv", bench) == Job("pretrain", "bert", 300.0, 290.0, 500.0)
    assert read_job(bench / "train_tokenizer.tsv", bench) == Job("train_tokenizer", "", 9.0, 0.0, 50.0)


def rows(text: str, table: int) -> dict[str, list[str]]:
    """{first cell: cells} of the table'th markdown table in `text`."""
    tables = [t for t in text.split("\n\n") if t.startswith("|")]
    return {cells[0]: cells[1:] for line in tables[table].splitlines()[2:]
            for cells in [[c.strip() for c in line.strip("|").split("|")]]}


def test_sums_per_rule_and_per_model(bench: Path) -> None:
    text = report(read_jobs(bench))
    by_rule = rows(text, 0)
    assert list(by_rule) == ["pretrain", "train", "generate_synglue", "icl", "train_tokenizer", "total"]
    total = 24 + 9 + 300 + 50 + 62 + 10
    assert by_rule["train"] == ["2", "112.0", "102.0", f"{100 * 112 / total:.1f}%", "320"]
    assert by_rule["total"] == ["6", f"{total:.1f}", f"{20 + 290 + 45 + 57 + 9:.1f}", "100.0%", "500"]
    by_model = rows(text, 1)
    assert by_model["bert"] == ["3", "412.0", "392.0", f"{100 * 412 / total:.1f}%", "500"]
    assert by_model["–"][:3] == ["2", "33.0", "20.0"]  # data preparation: no model
    assert by_model["gpt_small"][:3] == ["1", "10.0", "9.0"]


def test_the_logs_folder_means_its_benchmarks(bench: Path) -> None:
    """`seminal times logs/glue` reads logs/glue/benchmarks, rather than calling every job rule 'benchmarks'."""
    assert read_jobs(bench.parent) == read_jobs(bench)


def test_cli_prints_and_writes(bench: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "times.md"
    assert main(["times", str(bench), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed == out.read_text() and "| pretrain | 1 | 300.0 |" in printed


@pytest.mark.parametrize("content, where, what", [
    ("", ":1:", "empty"),
    ("s\tmax_rss\n1\t2\n", ":1:", "cpu_time"),
    (f"{HEADER}\n", ":2:", "no measurement"),
    (f"{HEADER}\n1\t0:00:01\t2\n", ":2:", "3 fields"),
    (f"{HEADER}\nabc\t0\t1\t1\t1\t1\t0\t0\t1\t1\n", ":2:", "'s' is not a number"),
    (f"{HEADER}\n-1\t0\t1\t1\t1\t1\t0\t0\t1\t1\n", ":2:", "non-negative"),
])
def test_bad_files_are_one_line_errors_naming_file_and_line(tmp_path: Path, content: str, where: str,
                                                            what: str) -> None:
    (tmp_path / "train").mkdir()
    f = tmp_path / "train" / "x.tsv"
    f.write_text(content)
    with pytest.raises(SeminalError, match=what) as e:
        read_jobs(tmp_path)
    assert str(e.value).startswith(f"{f}{where}") and "\n" not in str(e.value)


def test_no_files_says_so(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["times", str(tmp_path)]) == 1
    assert "no benchmark files" in capsys.readouterr().err
