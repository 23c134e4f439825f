"""MLflow tracking on a sqlite store in tmp: run tree, params, buffered metrics, statuses, processes."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient

from seminal.errors import SeminalError
from seminal.tracking import (
    PARENT_TAG,
    TRUNCATED,
    Tracker,
    child_run,
    parent_run,
    sanitize_key,
    start_parent,
    tracking_uri,
)


def _tags(task: str = "CoLA", seed: int = 0, model: str = "kim_cnn_rand", bench: str = "b") -> dict:
    return {"git_commit": "abc123", "data_hash": "d41d8cd98f00b204e9800998ecf8427e.dir",
            "seed": seed, "task": task, "model": model, "benchmark": bench}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowClient]:
    """One sqlite store for the module (creating its schema takes a second); each test uses
    its own experiment (= benchmark name)."""
    db = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
        yield MlflowClient()


def test_tracking_uri_default_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert tracking_uri() == f"sqlite:///{tmp_path.resolve()}/mlflow.db"  # found by walking up
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/x.db")
    assert tracking_uri(tmp_path) == "sqlite:////elsewhere/x.db"


def test_sanitize_key() -> None:
    assert sanitize_key("train.lr") == "train.lr"
    assert sanitize_key("dev/acc m=1!") == "dev/acc m_1_"
    assert sanitize_key("/a//b/../c") == "_/a/_/b/_/c"
    assert len(sanitize_key("k" * 400)) == 250


def test_parent_child_params_tags_artifact(store: MlflowClient, tmp_path: Path) -> None:
    parent = start_parent("bench_tree", "kim_cnn_rand", {"model_config": {"embed_dim": 300}},
                          {"paper": "kim2014"})
    long = "x" * 7000
    params = {"train": {"lr": 0.001, "sched": {"warmup": 10}}, "long": long, "bad key!": 1,
              "empty": {}, "tuple": (3, 4, 5)}
    children = []
    for seed in (0, 1):
        with child_run("bench_tree", parent, f"CoLA/seed{seed}", params, _tags(seed=seed)) as t:
            assert isinstance(t, Tracker)
            art = tmp_path / "metrics.json"
            art.write_text('{"acc": 1}\n')
            t.log_artifact(art)
            t.set_tags({"extra": "yes"})
            children.append(t.run_id)

    exp = store.get_experiment_by_name("bench_tree")
    assert exp is not None and exp.artifact_location.endswith("mlartifacts/bench_tree")
    p = store.get_run(parent)
    assert p.info.run_name == "kim_cnn_rand" and p.info.status == "FINISHED"
    assert p.data.params == {"model_config.embed_dim": "300"} and p.data.tags["paper"] == "kim2014"
    found = store.search_runs([exp.experiment_id], f"tags.`{PARENT_TAG}` = '{parent}'")
    assert sorted(r.info.run_id for r in found) == sorted(children)
    c = store.get_run(children[1])
    assert c.info.run_name == "CoLA/seed1" and c.info.status == "FINISHED"
    assert c.data.tags[PARENT_TAG] == parent and c.data.tags["extra"] == "yes"
    assert {k: c.data.tags[k] for k in ("git_commit", "seed", "task")} == {
        "git_commit": "abc123", "seed": "1", "task": "CoLA"}
    ps = c.data.params
    assert ps["train.lr"] == "0.001" and ps["train.sched.warmup"] == "10"
    assert ps["bad key_"] == "1" and ps["empty"] == "{}" and ps["tuple"] == "(3, 4, 5)"
    assert len(ps["long"]) == 6000 and ps["long"].endswith(TRUNCATED)
    assert [a.path for a in store.list_artifacts(children[1])] == ["metrics.json"]


def test_required_keys_are_enforced(store: MlflowClient) -> None:
    parent = start_parent("bench_req", "m", {}, {})
    tags = _tags()
    del tags["data_hash"]
    with pytest.raises(SeminalError, match="data_hash"):
        with child_run("bench_req", parent, "x", {}, tags):
            pass
    with child_run("bench_req", parent, "x", {"data_hash": "h"}, tags):  # as a param is fine
        pass


def test_buffered_step_metrics_arrive_in_order(store: MlflowClient) -> None:
    parent = start_parent("bench_steps", "m", {}, {})
    with child_run("bench_steps", parent, "MNLI/seed0", {}, _tags("MNLI")) as t:
        for step in range(2500):
            t.log_metrics({"train/loss": 1.0 / (step + 1)}, step=step)
            if step == 998:  # 999 values waiting: nothing sent yet
                assert store.get_metric_history(t.run_id, "train/loss") == []
        # 2 batches of 1000 have been sent; the last 500 wait for the end of the run
        assert len(store.get_metric_history(t.run_id, "train/loss")) == 2000
        t.log_metrics({"dev/acc": 0.5, "dev/f1": 0.25}, step=3)
        run_id = t.run_id
    hist = sorted(store.get_metric_history(run_id, "train/loss"), key=lambda m: (m.step, m.timestamp))
    assert [m.step for m in hist] == list(range(2500))
    assert [m.value for m in hist] == [1.0 / (s + 1) for s in range(2500)]
    run = store.get_run(run_id)
    assert run.data.metrics["dev/acc"] == 0.5 and run.data.metrics["dev/f1"] == 0.25


def test_failed_run_is_marked_and_keeps_its_metrics(store: MlflowClient) -> None:
    parent = start_parent("bench_fail", "m", {}, {})
    with pytest.raises(RuntimeError, match="boom"):
        with child_run("bench_fail", parent, "RTE/seed0", {}, _tags("RTE")) as t:
            for step in range(5):
                t.log_metrics({"train/loss": float(step)}, step=step)
            run_id = t.run_id
            raise RuntimeError("boom")
    run = store.get_run(run_id)
    assert run.info.status == "FAILED"
    assert len(store.get_metric_history(run_id, "train/loss")) == 5


def _worker(uri: str, record: Path, worker: int, runs: int, steps: int) -> None:
    os.environ["MLFLOW_TRACKING_URI"] = uri
    parent = parent_run("bench_mp", "m", {"lr": 0.1}, record)  # as every pipeline job does
    for r in range(runs):
        tags = _tags(task=f"T{worker}", seed=r)
        with child_run("bench_mp", parent, f"T{worker}/seed{r}", {"worker": worker}, tags) as t:
            for step in range(steps):
                t.log_metrics({"train/loss": float(step), "train/lr": worker + r / 10}, step=step)


def test_concurrent_processes_share_one_parent_and_lose_nothing(store: MlflowClient, tmp_path: Path) -> None:
    uri = os.environ["MLFLOW_TRACKING_URI"]
    record = tmp_path / "runs" / "m" / "parent_run.json"
    nproc, runs, steps = 3, 2, 700  # 1400 values per run: one mid-run batch + one at the end
    ctx = multiprocessing.get_context("spawn")  # no forked sqlite connections
    procs = [ctx.Process(target=_worker, args=(uri, record, w, runs, steps)) for w in range(nproc)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * nproc
    exp = store.get_experiment_by_name("bench_mp")
    parents = store.search_runs([exp.experiment_id], "tags.`seminal.role` = 'parent'")
    assert len(parents) == 1  # the first job made it, the others found it in the record
    parent = parents[0].info.run_id
    assert json.loads(record.read_text())["run_id"] == parent
    found = store.search_runs([exp.experiment_id], f"tags.`{PARENT_TAG}` = '{parent}'")
    assert sorted(r.info.run_name for r in found) == sorted(
        f"T{w}/seed{r}" for w in range(nproc) for r in range(runs))
    for run in found:
        assert run.info.status == "FINISHED"
        hist = store.get_metric_history(run.info.run_id, "train/loss")
        assert sorted(m.step for m in hist) == list(range(steps))
        assert len(store.get_metric_history(run.info.run_id, "train/lr")) == steps


def test_parent_run_is_reused_only_for_the_same_params_and_a_live_run(store: MlflowClient, tmp_path: Path) -> None:
    record = tmp_path / "parent_run.json"
    first = parent_run("bench_reuse", "bilstm", {"model_config": {"hidden_dim": 8}}, record)
    assert parent_run("bench_reuse", "bilstm", {"model_config": {"hidden_dim": 8}}, record) == first
    run = store.get_run(first)
    assert run.info.run_name == "bilstm" and run.info.status == "FINISHED"
    assert run.data.params["model_config.hidden_dim"] == "8"
    changed = parent_run("bench_reuse", "bilstm", {"model_config": {"hidden_dim": 16}}, record)  # an edited config
    assert changed != first and json.loads(record.read_text())["run_id"] == changed
    store.delete_run(changed)  # e.g. deleted in the MLflow UI
    again = parent_run("bench_reuse", "bilstm", {"model_config": {"hidden_dim": 16}}, record)
    assert again not in (first, changed)
    record.write_text(json.dumps({"run_id": "0" * 32, "key": json.loads(record.read_text())["key"]}))
    assert parent_run("bench_reuse", "bilstm", {"model_config": {"hidden_dim": 16}}, record) not in (again, "0" * 32)
