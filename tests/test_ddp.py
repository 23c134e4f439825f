"""Data-parallel pretraining: `torchrun` + DistributedDataParallel (gloo on the CPU).

Two processes, each training on its half of the same global batch, must end where one process
ends on the whole batch: the same weights, training and validation curves. Both runs are the
same script (a tiny GPT and a tiny BERT through seminal.pretrain.pretrain), one under plain
python, one under torchrun with 2 processes on a free 127.0.0.1 port.

Tolerance: the two runs do the same arithmetic in a different order (each process sums the loss
over half the rows, the all-reduce adds the halves, and matmuls over 4 rows block differently
from matmuls over 8), so float32 results agree to rounding, not bit for bit; Adam divides by
sqrt(v), which keeps those differences at the level of rounding (~1e-6 relative) over a few
steps. A real error (a process training on the wrong rows, a missing all-reduce, BERT's MLM
mean taken per process) moves the weights by ~1e-3 after one step, 1000x the tolerance.
Dropout is off: each process draws its own masks (seminal.pretrain's docstring).
"""

from __future__ import annotations

import os
import runpy
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]

WORKER = '''
import sys
from pathlib import Path

import torch

from seminal.bench import synthetic_corpus
from seminal.models import bert, gpt
from seminal.pretrain import PretrainConfig, distributed, init_distributed, pretrain, split_corpus
from seminal.train import seed_everything

rank = init_distributed()
torch.set_num_threads(1)
out = Path(sys.argv[1])
train, valid = split_corpus(synthetic_corpus(20_000, vocab=64), 0.05)
cfg = PretrainConfig(lr=3e-3, warmup_steps=1, batch_size=8, max_steps=4, eval_every=2, ckpt_every=2,
                     eval_batches=2, log_every=1)
results = {}
for name in ("gpt", "bert"):
    seed_everything(0)
    if name == "gpt":
        mc = gpt.GPTConfig(vocab_size=64, n_layer=2, d_model=32, n_head=2, d_ff=64, n_ctx=16, band=4)
        model, make = gpt.GPT(mc), gpt.make_pretrain_batch
    else:
        mc = bert.BertConfig(vocab_size=64, n_layers=2, d_model=32, n_heads=2, d_ff=64, max_position=32,
                             max_seq_len=32, dropout=0.0, attention_dropout=0.0)
        model, make = bert.BertForPretraining(mc), bert.make_pretrain_batch
    res = pretrain(model, lambda ids, b, rng: make(ids, mc, b, rng), train, valid, cfg, seed=1,
                   ckpt_dir=out.parent / f"{out.stem}.{name}.ckpt")
    results[name] = {"state": model.state_dict(), "train_curve": res.train_curve, "valid_curve": res.valid_curve,
                     "tokens": res.tokens, "world": distributed()[1]}
if rank == 0:
    torch.save(results, out)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_end_where_one_process_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    two = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                            "--master-addr", "127.0.0.1", "--master-port", str(free_port()), str(script),
                            str(tmp_path / "two.pt")], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setattr(sys, "argv", [str(script), str(tmp_path / "one.pt")])
    runpy.run_path(str(script), run_name="__main__")  # the same script in this process: world size 1
    _, err = two.communicate(timeout=300)
    assert two.returncode == 0, err[-3000:]
    a, b = torch.load(tmp_path / "one.pt"), torch.load(tmp_path / "two.pt")
    for name in ("gpt", "bert"):
        assert (a[name]["world"], b[name]["world"]) == (1, 2)
        assert a[name]["tokens"] == b[name]["tokens"]
        worst = max(float((a[name]["state"][k] - v).abs().max()) for k, v in b[name]["state"].items())
        print(name, "largest weight difference", worst)
        for k, v in b[name]["state"].items():
            torch.testing.assert_close(v, a[name]["state"][k], rtol=1e-4, atol=1e-5, msg=f"{name} {k}")
        assert [c["step"] for c in a[name]["train_curve"]] == [c["step"] for c in b[name]["train_curve"]] == [1, 2, 3, 4]
        for ca, cb in zip(a[name]["train_curve"] + a[name]["valid_curve"], b[name]["train_curve"] + b[name]["valid_curve"]):
            for key in ca:
                assert cb[key] == pytest.approx(ca[key], rel=1e-4), (name, key, ca, cb)
    # only rank 0 wrote checkpoints: one last.pt per model, as with one process
    assert sorted(p.parent.name for p in tmp_path.glob("two.*.ckpt/last.pt")) == ["two.bert.ckpt", "two.gpt.ckpt"]


def write_corpus(path: Path, sentences: int = 1500) -> None:
    """Plain text in the corpus format: one sentence a line, a blank line between documents."""
    import numpy as np

    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("abcdefghij"), size=int(rng.integers(2, 6)))) for _ in range(200)]
    lines = []
    for i in range(sentences):
        lines.append(" ".join(rng.choice(words, size=int(rng.integers(5, 12)))))
        if i % 5 == 4:
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_torchrun_runs_the_pretrain_command_and_only_rank_0_writes(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`torchrun --nproc-per-node 2 -m seminal.cli pretrain ...` (the command the pipeline runs, unchanged)
    writes one model.pt, metrics.json and MLflow run, with the weights of `seminal pretrain` alone."""
    import json

    from mlflow import MlflowClient

    from seminal.tokenize import encode_corpus, train_tokenizer

    write_corpus(tmp_path / "corpus.txt")
    spm = train_tokenizer([tmp_path / "corpus.txt"], tmp_path / "spm", 60)
    encode_corpus(tmp_path / "corpus.txt", spm, tmp_path / "ids.npy")
    (tmp_path / "data_version.json").write_text(json.dumps({"data_hash": "0" * 32 + ".dir"}))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1", "MLFLOW_TRACKING_URI": uri}

    def args(name: str) -> list[str]:
        return ["pretrain", "--config", "config/pretrain/gpt_small.yaml", "--corpus-ids", str(tmp_path / "ids.npy"),
                "--spm", str(spm), "--benchmark-name", "ddp", "--data-version", str(tmp_path / "data_version.json"),
                "--set", "model_config.n_ctx=32", "--set", "pretrain.max_steps=4", "--set", "pretrain.warmup_steps=1",
                "--set", "pretrain.eval_every=2", "--set", "pretrain.ckpt_every=2", "--set", "pretrain.eval_batches=2",
                "--out", str(tmp_path / name), "--checkpoints", str(tmp_path / f"{name}.ckpt")]

    two = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr",
                            "127.0.0.1", "--master-port", str(free_port()), "-m", "seminal.cli", *args("two")],
                           cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    from seminal.cli import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.chdir(REPO)
    assert main(args("one")) == 0  # `seminal pretrain` in this process, meanwhile
    _, log = two.communicate(timeout=300)
    assert two.returncode == 0, log[-3000:]
    assert "data parallel: 2 processes (gloo)" in log
    assert log.count("pretrained gpt_small") == 1  # rank 0's closing line only
    a, b = (torch.load(tmp_path / n / "model.pt") for n in ("one", "two"))
    for k, v in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][k], v, rtol=1e-4, atol=1e-5, msg=k)
    ma, mb = (json.loads((tmp_path / n / "metrics.json").read_text()) for n in ("one", "two"))
    assert ma["tokens"] == mb["tokens"] and ma["steps"] == mb["steps"] == 4
    for ca, cb in zip(ma["train_curve"] + ma["valid_curve"], mb["train_curve"] + mb["valid_curve"]):
        assert cb == pytest.approx(ca, rel=1e-4)
    runs = MlflowClient(uri).search_runs([MlflowClient(uri).get_experiment_by_name("ddp").experiment_id])
    assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)  # one per command, not per process
