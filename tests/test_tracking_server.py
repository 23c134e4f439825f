"""MLflow against a tracking server: `mlflow server` on 127.0.0.1 with a sqlite database backend and a
served artifact store, and a real `seminal train` (which makes its parent run) pointed at it by
MLFLOW_TRACKING_URI alone. The run tree, params, per-step and final metrics and the artifacts must be
on the server (read back over HTTP), and nothing in the local default store."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient

REPO = Path(__file__).resolve().parents[1]
SEMINAL = [sys.executable, "-m", "seminal.cli"]
MLFLOW = str(Path(sys.executable).parent / "mlflow")

pytestmark = pytest.mark.slow  # the server alone needs 20-50 s to answer on 2 cores


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """(url, process, log) of an `mlflow server` being started (it needs 20-50 s: prepare the data
    meanwhile, then `_wait`); its whole process group (uvicorn worker, job consumers) is ended after."""
    root = tmp_path_factory.mktemp("mlflow_server")
    port = _free_port()
    log = root / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [MLFLOW, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{root / 'server.db'}",
             "--artifacts-destination", str(root / "artifacts"), "--serve-artifacts"],
            cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}", proc, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left (job consumers)
        except ProcessLookupError:
            pass
        proc.wait(timeout=20)


def _wait(url: str, proc: subprocess.Popen, log: Path, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        assert proc.poll() is None, f"mlflow server exited {proc.returncode}:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"mlflow server not answering after {limit} s:\n{log.read_text()[-3000:]}"
        time.sleep(0.25)


def seminal(args: list[str], env: dict[str, str], cwd: Path) -> None:
    proc = subprocess.run(SEMINAL + args, check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_train_logs_its_run_to_the_tracking_server(server: tuple[str, subprocess.Popen, Path],
                                                    tmp_path: Path) -> None:
    url, proc, log = server
    # A working folder that is a repository root (dvc.yaml), so a run that ignored the server would
    # have written tmp_path/mlflow.db.
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_TRACKING_URI"] = url
    bench = str(REPO / "config/benchmarks/synglue.yaml")
    d = tmp_path / "data"
    seminal(["generate", "--out", str(d), "--train-size", "200", "--dev-size", "60", "--test-size", "40",
             "--corpus-tokens", "30000"], env, tmp_path)
    spm = d / "tokenizer/spm.model"
    seminal(["tokenizer", "--corpus", str(d / "corpus/corpus.txt"), "--vocab-size", "300", "--out", str(spm)],
            env, tmp_path)
    seminal(["encode", "--benchmark", bench, "--data", str(d), "--spm", str(spm), "--task", "CoLA",
             "--out", str(d / "encoded/CoLA")], env, tmp_path)
    (tmp_path / "data_version.json").write_text(json.dumps({"data_hash": "0" * 32 + ".dir"}))
    _wait(url, proc, log)
    model = str(REPO / "config/models/kim_cnn_rand.yaml")
    seminal(["train", "--benchmark", bench, "--data", str(d), "--encoded", str(d / "encoded"), "--spm", str(spm),
             "--model-config", model, "--set", "model_config.num_filters=8", "--set", "train.max_epochs=2",
             "--tasks", "CoLA", "--seeds", "0", "--parent", str(tmp_path / "parent.json"),
             "--data-version", str(tmp_path / "data_version.json"), "--out", str(tmp_path / "run"),
             "--checkpoints", str(tmp_path / "ckpt")], env, tmp_path)

    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlartifacts").exists()
    client = MlflowClient(tracking_uri=url)
    exp = client.get_experiment_by_name("synglue")
    assert exp is not None and exp.artifact_location.startswith("mlflow-artifacts:")  # served by the server
    parent_id = json.loads((tmp_path / "parent.json").read_text())["run_id"]
    assert client.get_run(parent_id).info.run_name == "kim_cnn_rand"
    children = client.search_runs([exp.experiment_id], f"tags.`mlflow.parentRunId` = '{parent_id}'")
    assert len(children) == 1
    run = children[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["model_config.num_filters"] == "8" and run.data.params["train.max_epochs"] == "2"
    assert {**run.data.params, **run.data.tags}["task"] == "CoLA"
    steps = client.get_metric_history(run.info.run_id, "train/loss")
    assert len(steps) >= 2 and steps[0].step < steps[-1].step  # the per-step curve, sent in batches
    assert "dev/score" in run.data.metrics  # per epoch
    assert any(k.startswith("CoLA.dev.") for k in run.data.metrics), sorted(run.data.metrics)  # final

    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "metrics.json" in names, names
    local = client.download_artifacts(run.info.run_id, "metrics.json", str(tmp_path / "back"))
    assert Path(local).read_bytes() == (tmp_path / "run/CoLA/seed0/metrics.json").read_bytes()
