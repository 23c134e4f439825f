"""Resume after `kill -9`: a training job and a pretraining job, killed midway through the real
command line (`seminal train`, `seminal pretrain`), then run again, end with the same metrics.json
bytes as an uninterrupted run with the same seed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEMINAL = [sys.executable, "-m", "seminal.cli"]


def seminal(args: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(SEMINAL + args, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stderr


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A tiny embedded benchmark: generated, tokenised, RTE and the corpus encoded; an MLflow store."""
    root = tmp_path_factory.mktemp("resume")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    d = root / "data"
    seminal(["generate", "--out", str(d), "--train-size", "300", "--dev-size", "60", "--test-size", "40",
             "--corpus-tokens", "60000"], env)
    spm = d / "tokenizer" / "spm.model"
    seminal(["tokenizer", "--corpus", str(d / "corpus/corpus.txt"), "--vocab-size", "300", "--out", str(spm)], env)
    seminal(["encode", "--benchmark", "config/benchmarks/synglue.yaml", "--data", str(d), "--spm", str(spm),
             "--task", "RTE", "--out", str(d / "encoded/RTE")], env)
    seminal(["encode-corpus", "--corpus", str(d / "corpus/corpus.txt"), "--spm", str(spm),
             "--out", str(d / "encoded/corpus/ids.npy")], env)
    (root / "data_version.json").write_text(json.dumps({"data_hash": "0" * 32 + ".dir"}))
    return root, env


def kill_after_first_checkpoint(cmd: list[str], checkpoint: Path, env: dict[str, str]) -> None:
    """Start `cmd`, SIGKILL it as soon as `checkpoint` exists; it must still have been running."""
    proc = subprocess.Popen(SEMINAL + cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"finished before the kill (make the job longer)\n{err[-2000:]}"


def test_killed_training_job_resumes_to_the_same_metrics(prepared) -> None:
    root, env = prepared
    d = root / "data"

    def train(out: str) -> list[str]:
        return ["train", "--benchmark", "config/benchmarks/synglue.yaml", "--data", str(d), "--encoded",
                str(d / "encoded"), "--spm", str(d / "tokenizer/spm.model"), "--model-config",
                "config/models/bilstm.yaml", "--set", "model_config.hidden_dim=16",
                "--set", "model_config.embed_dim=16",
                "--set", "train.max_epochs=8", "--set", "train.ckpt_every=3", "--tasks", "RTE", "--seeds", "0",
                "--parent", str(root / "parent.json"), "--data-version", str(root / "data_version.json"),
                "--out", str(root / out), "--checkpoints", str(root / f"{out}.ckpt")]

    seminal(train("whole"), env)
    kill_after_first_checkpoint(train("killed"), root / "killed.ckpt/RTE/seed0/last.pt", env)
    assert not (root / "killed/RTE/seed0/metrics.json").exists()
    log = seminal(train("killed"), env)  # the same command again: resumes from last.pt
    assert "resuming from" in log and "at epoch 1, step 0" not in log
    whole = (root / "whole/RTE/seed0/metrics.json").read_bytes()
    assert (root / "killed/RTE/seed0/metrics.json").read_bytes() == whole
    assert len(json.loads(whole)["history"]) == 8


def test_killed_pretraining_job_resumes_to_the_same_metrics(prepared) -> None:
    root, env = prepared
    d = root / "data"

    def pretrain(out: str) -> list[str]:
        return ["pretrain", "--config", "config/pretrain/gpt_small.yaml",
                "--corpus-ids", str(d / "encoded/corpus/ids.npy"),
                "--spm", str(d / "tokenizer/spm.model"), "--benchmark-name", "synglue", "--data-version",
                str(root / "data_version.json"), "--set", "model_config.n_ctx=32", "--set", "pretrain.max_steps=150",
                "--set", "pretrain.warmup_steps=5", "--set", "pretrain.ckpt_every=10",
                "--set", "pretrain.eval_every=50",
                "--out", str(root / out), "--checkpoints", str(root / f"{out}.ckpt")]

    seminal(pretrain("pre_whole"), env)
    kill_after_first_checkpoint(pretrain("pre_killed"), root / "pre_killed.ckpt/last.pt", env)
    log = seminal(pretrain("pre_killed"), env)
    assert "resuming from" in log and "at step 0" not in log
    whole = (root / "pre_whole/metrics.json").read_bytes()
    assert (root / "pre_killed/metrics.json").read_bytes() == whole
    assert json.loads(whole)["steps"] == 150
