"""End to end: the `ci` profile in a temporary copy of the repository, then DVC around it.

Checks the issue's 'done when': a table with every model on every task, MLflow runs with their
metrics and provenance, `dvc status` clean after `dvc commit`, and `dvc push` then `dvc pull` in a
fresh clone restoring identical bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml


CONFIG = yaml.safe_load((Path(__file__).resolve().parents[2] / "config/config.yaml").read_text())
MODELS = sorted(CONFIG["models"])
CONTROLS = ["gru", "lstm1997", "rnn"]  # single-sentence tasks only
ICL = [m for m in MODELS if m.startswith("gpt_")]  # evaluated in context: a row per shot setting
TRAINED = [m for m in MODELS if m not in ICL]
ROWS = sorted(TRAINED + [f"{m}.{k}shot" for m in ICL for k in ("0", "1", "few")])
PRETRAINED = ["bert", "bert_small", "elmo", "gpt_large", "gpt_medium", "gpt_small"]
TASKS = ["CoLA", "MRPC", "STS-B", "MNLI"]  # config/ci.yaml's: one of each kind
SINGLE = ["CoLA"]
SEEDS = 2


def tasks_of(row: str) -> list[str]:
    return SINGLE if row in CONTROLS else TASKS


ROWS_X_TASKS_X_SEEDS = [(m, t, s) for m in ROWS for t in tasks_of(m) for s in range(SEEDS)]


def test_table_has_every_model_on_every_task(ran: Path) -> None:
    rows = [l for l in (ran / "results/synglue/table.md").read_text().splitlines() if l.startswith("|")]
    header, body = rows[0], rows[2:]
    for task in TASKS:
        assert task in header
    assert sorted(r.split("|")[1].strip() for r in body) == ROWS
    names = [c.strip() for c in header.split("|")[1:-1]]
    for r in body:
        cells = dict(zip(names, (c.strip() for c in r.split("|")[1:-1])))
        for name, value in cells.items():
            if any(name.startswith(t) for t in TASKS) and value == "–":
                assert cells["Model"] in CONTROLS and not name.startswith(tuple(SINGLE)), (name, r)
    csv = (ran / "results/synglue/table.csv").read_text()
    assert csv.count("\n") == len(ROWS) + 1
    assert (ran / "results/synglue/table.tex").read_text().count(r"\\") >= len(ROWS) + 1
    assert (ran / "results/synglue/plots/by_distance.png").stat().st_size > 1000
    report = (ran / "results/synglue/report.html").read_text(encoding="utf-8")
    assert "table.md" in report and "by_distance.png" in report and "curves.png" in report


def test_every_run_has_metrics_predictions_and_a_submission(ran: Path) -> None:
    for m in ROWS:
        for t in tasks_of(m):
            for s in range(SEEDS):
                d = ran / f"results/synglue/runs/{m}/{t}/seed{s}"
                rec = json.loads((d / "metrics.json").read_text())
                assert rec["eval"][t], (m, t, s)
                assert len(rec["data_hash"]) == 36 and rec["data_hash"].endswith(".dir")
                assert rec["git_commit"] != "unknown"
                assert any((d / "predictions").glob(f"{t}.*.tsv"))
                assert json.loads((d / "cost.json").read_text())["cpu_seconds"] > 0
    for m in TRAINED:
        assert (ran / f"results/synglue/submission/{m}.zip").stat().st_size > 0
    # AX is predicted by the MNLI model and scored on the embedded benchmark's labelled copy
    rec = json.loads((ran / "results/synglue/runs/tfidf_logreg/MNLI/seed0/metrics.json").read_text())
    assert "mcc" in rec["eval"]["AX"]["dev"]["metrics"]
    assert set(rec["eval"]["MNLI"]) == {"dev_matched", "dev_mismatched"}


def test_mlflow_has_parent_and_child_runs_with_metrics(ran: Path) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{ran / 'mlflow.db'}")
    exp = client.get_experiment_by_name("synglue")
    runs = client.search_runs([exp.experiment_id], max_results=5000)
    pretraining = {r.data.tags["model"]: r for r in runs if r.data.tags.get("seminal.role") == "pretrain"}
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    parents = {r.info.run_id: r for r in runs if r.data.tags.get("seminal.role") == "parent"}
    claims = [r for r in runs if r.data.tags.get("seminal.role") == "claims"]
    assert sorted(p.info.run_name for p in parents.values()) == MODELS
    assert len(children) == sum(len(tasks_of(m)) for m in ROWS) * SEEDS
    assert len(claims) == 1 and claims[0].info.status == "FINISHED"
    assert len(runs) == len(children) + len(parents) + len(pretraining) + len(claims)
    data_hash = json.loads((ran / "results/synglue/data_version.json").read_text())["data_hash"]
    for r in children:
        assert r.data.tags["mlflow.parentRunId"] in parents
        assert r.data.tags["data_hash"] == data_hash
        assert r.info.status == "FINISHED"
        assert any(k.endswith((".acc", ".mcc", ".pearson")) for k in r.data.metrics), r.data.metrics
    neural = [r for r in children if r.data.tags["model"] not in ("majority", "tfidf_logreg")
              and "shots" not in r.data.tags]
    assert neural and all("train/loss" in r.data.metrics for r in neural)
    # safety: no absolute path of this machine (home, the checkout) in any logged param or tag
    for r in runs:
        for value in [*r.data.params.values(), *r.data.tags.values()]:
            assert str(ran) not in value and str(Path.home()) not in value, (r.info.run_name, value)
    # the pretrainings: one top-level run each, with curves and the held-out perplexity
    assert sorted(pretraining) == PRETRAINED
    for name, r in pretraining.items():
        assert r.info.status == "FINISHED" and r.data.tags["data_hash"] == data_hash
        assert "valid/ppl" in r.data.metrics and "train/loss" in r.data.metrics, name
        rec = json.loads((ran / f"results/synglue/pretrain/{name}/metrics.json").read_text())
        assert rec["valid"]["ppl"] > 1 and rec["steps"] == 6


def _final_metrics(repo: Path) -> dict[tuple[str, str, str], dict[str, float]]:
    """{(role, model, run name): final value of every metric but the clock's} of a copy's MLflow store
    (the claims run's metrics left out: claims 8a/8b are measured times)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("synglue").experiment_id], max_results=5000)
    out = {}
    for r in runs:
        assert r.info.status == "FINISHED", r.info.run_name
        key = (r.data.tags.get("seminal.role", ""), r.data.tags.get("model", ""), r.info.run_name)
        assert key not in out, key
        out[key] = {k: v for k, v in r.data.metrics.items()
                    if not k.endswith(("seconds", "per_s")) and key[0] != "claims"}
    return out


def test_a_second_whole_run_is_byte_identical_and_loses_nothing_at_j4(sh, ran: Path, make_repo_copy) -> None:
    """Determinism: `snakemake --profile profiles/ci` again, in another copy of the same commit, gives
    byte-identical metrics.json files (every run, every pretraining) and predictions.
    Parallel safety: that second run uses -j 4 (more concurrent jobs than cores, all writing to one
    sqlite store) and its MLflow store holds the same runs with the same final metrics as the first
    (--cores 2): no run and no metric lost."""
    second = make_repo_copy("second")
    root = ["git", "rev-list", "--max-parents=0", "HEAD"]  # the commit the first run recorded
    assert sh(root, second).stdout == sh(root, ran).stdout
    sh(["snakemake", "--profile", "profiles/ci", "-j", "4"], second, timeout=1800)

    def files(root: Path) -> list[Path]:
        results = root / "results/synglue"
        found = [*results.glob("runs/*/*/seed*/metrics.json"), *results.glob("runs/*/*/seed*/predictions/*.tsv"),
                 *[results / f"pretrain/{name}/metrics.json" for name in PRETRAINED],
                 results / "pretrain/word2vec/vectors.npy"]  # (its metrics.json holds timings)
        return sorted(p.relative_to(root) for p in found)

    assert files(second) == files(ran)
    assert len([p for p in files(ran) if p.name == "metrics.json"]) == len(ROWS_X_TASKS_X_SEEDS) + len(PRETRAINED)
    for rel in files(ran):
        assert (second / rel).read_bytes() == (ran / rel).read_bytes(), rel
    first, again = _final_metrics(ran), _final_metrics(second)
    assert sorted(again) == sorted(first)
    for key, metrics in first.items():
        assert again[key] == metrics, key


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dvc_status_clean_then_push_pull_in_a_fresh_clone(sh, ran: Path, tmp_path: Path) -> None:
    sh(["dvc", "commit", "--force", "--quiet", "replicate@synglue"], ran)
    status = sh(["dvc", "status"], ran).stdout
    assert "up to date" in status, status
    lock = yaml.safe_load((ran / "dvc.lock").read_text())
    outs = {o["path"]: o["md5"] for o in lock["stages"]["replicate@synglue"]["outs"]}
    # the hash every MLflow run recorded is the one DVC records for the data
    assert outs["data/synglue"] == json.loads((ran / "results/synglue/data_version.json").read_text())["data_hash"]

    sh(["git", "add", "-A"], ran)
    sh(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "dvc.lock"], ran)
    sh(["dvc", "push", "--quiet"], ran)
    clone = ran.parent / "clone"
    sh(["git", "clone", "-q", str(ran), str(clone)], ran.parent)
    sh(["dvc", "pull", "--quiet"], clone)
    for rel in ["results/synglue/table.md", "results/synglue/table.csv", "data/synglue/corpus/corpus.txt",
                "data/synglue/CoLA/dev.tsv", "data/synglue/tokenizer/spm.model",
                "data/synglue/encoded/MNLI/dev_matched/s1_ids.npy",
                "results/synglue/runs/kim_cnn_rand/MRPC/seed1/metrics.json",
                "results/synglue/pretrain/word2vec/vectors.npy", "results/synglue/pretrain/bert/model.pt"]:
        assert _sha(clone / rel) == _sha(ran / rel), rel
    assert "up to date" in sh(["dvc", "status"], clone).stdout
