"""End to end: the `ci` profile in a temporary copy of the repository, then DVC around it.

Checks the issue's 'done when': a table with every model on every task, MLflow runs with their
metrics and provenance, `dvc status` clean after `dvc commit`, and `dvc push` then `dvc pull` in a
fresh clone restoring identical bytes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import yaml


CONFIG = yaml.safe_load((Path(__file__).resolve().parents[2] / "config/config.yaml").read_text())
MODELS = sorted(CONFIG["models"])
CONTROLS = ["gru", "lstm1997", "rnn"]  # single-sentence tasks only
ICL = [m for m in MODELS if m.startswith("gpt_")]  # evaluated in context: a row per shot setting
TRAINED = [m for m in MODELS if m not in ICL]
ROWS = sorted(TRAINED + [f"{m}.{k}shot" for m in ICL for k in ("0", "1", "few")])
PRETRAINED = ["bert", "elmo", "gpt_large", "gpt_medium", "gpt_small"]
TASKS = ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI"]
SINGLE = ["CoLA", "SST-2"]
SEEDS = 2


def tasks_of(row: str) -> list[str]:
    return SINGLE if row in CONTROLS else TASKS


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


def test_rerunning_gives_byte_identical_metrics(sh, ran: Path) -> None:
    """Determinism: the same config, data and seed give the same metrics.json bytes. Retrains a
    sample of runs from scratch (checkpoints deleted), one of each kind, in the same copy and at
    the same git commit (so before the DVC test below commits dvc.lock)."""
    runs = ran / "results/synglue/runs"
    sample = [f"{m}/{t}/seed{s}/metrics.json" for m in ("kim_cnn_rand", "transformer", "bert_scratch",
                                                        "tfidf_logreg", "gpt_small.fewshot")
              for t in ("RTE", "CoLA") for s in range(SEEDS)]
    before = {rel: (runs / rel).read_bytes() for rel in sample}
    for m in ("kim_cnn_rand", "transformer", "bert_scratch"):
        for t in ("RTE", "CoLA"):
            shutil.rmtree(ran / f"results/synglue/checkpoints/{m}/{t}")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{ran / 'mlflow.db'}")
    exp = client.get_experiment_by_name("synglue").experiment_id
    n_before = len(client.search_runs([exp], max_results=5000))
    # -j 4: more concurrent jobs than cores, all writing to the one sqlite store
    sh(["snakemake", "--profile", "profiles/ci", "-j", "4", "--forcerun",
        *[f"results/synglue/runs/{rel}" for rel in sample]], ran, timeout=1200)
    for rel in sample:
        assert (runs / rel).read_bytes() == before[rel], rel
    # parallel safety: every rerun job's runs arrived, finished, with their metrics (3 trained models
    # x 2 tasks x 2 seeds, tfidf the same, gpt_small: 2 tasks x 3 shot settings x 2 seeds)
    after = client.search_runs([exp], max_results=5000, order_by=["attributes.start_time DESC"])
    new = [r for r in after[: len(after) - n_before] if r.data.tags.get("seminal.role") != "claims"]
    assert len(new) == 3 * 2 * SEEDS + 2 * SEEDS + 2 * 3 * SEEDS
    for r in new:
        assert r.info.status == "FINISHED", r.info.run_name
        assert any(k.endswith((".acc", ".mcc")) for k in r.data.metrics), r.info.run_name


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
                "results/synglue/runs/kim_cnn_rand/RTE/seed1/metrics.json",
                "results/synglue/pretrain/word2vec/vectors.npy", "results/synglue/pretrain/bert/model.pt"]:
        assert _sha(clone / rel) == _sha(ran / rel), rel
    assert "up to date" in sh(["dvc", "status"], clone).stdout
