"""The shared trainer: determinism, exact resume, early stopping, bucketing, schedules, logging."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from seminal.benchmark import TaskSpec
from seminal.errors import SeminalError
from seminal.models.kim_cnn import KimCNNConfig, build
from seminal.io import save_npy
from seminal.tokenize import EncodedSplit, load_encoded
from seminal.train import FitResult, TrainConfig, epoch_batches, fit, lr_factor, predict, seed_everything, train_flops

torch.set_num_threads(1)
CLS = TaskSpec("T", "single", "classification", ("no", "yes"), ("acc",), {})
PAIR = TaskSpec("P", "pair", "regression", None, ("pearson",), {})
MODEL = KimCNNConfig(vocab_size=30, embed_dim=8, filter_widths=(2, 3), num_filters=6)
CFG = TrainConfig(optimizer="adadelta", lr=1.0, rho=0.95, eps=1e-6, batch_size=8, max_epochs=3,
                  bucket_size=2, log_every=5)


def sentences(rng: np.random.Generator, n: int) -> list[list[int]]:
    return [rng.integers(8, 30, size=rng.integers(1, 13)).tolist() for _ in range(n)]


def classification_data(n: int, seed: int) -> EncodedSplit:
    """Label 1 iff token 7 occurs: learnable by one filter."""
    rng = np.random.default_rng(seed)
    s = sentences(rng, n)
    for row in s[::2]:
        row[rng.integers(len(row))] = 7
    return EncodedSplit.from_sequences(s, labels=[int(7 in r) for r in s])


def pair_data(n: int, seed: int) -> EncodedSplit:
    rng = np.random.default_rng(seed)
    s1, s2 = sentences(rng, n), sentences(rng, n)
    return EncodedSplit.from_sequences(s1, s2, labels=np.array([len(a) - len(b) for a, b in zip(s1, s2)],
                                                             dtype=np.float32) / 4)


TRAIN, DEV = classification_data(64, 0), classification_data(32, 1)


def accuracy(p: np.ndarray) -> float:
    return float((p == DEV.labels).mean())


def run(ckpt: Path, cfg: TrainConfig = CFG, seed: int = 0, **kw) -> tuple[FitResult, np.ndarray, dict]:
    seed_everything(seed)
    model = build(MODEL, CLS)
    result = fit(model, CLS, TRAIN, DEV, cfg, seed, ckpt, dev_score=accuracy, **kw)
    return result, predict(model, CLS, DEV, 16), model.state_dict()


def test_learns_and_is_deterministic(tmp_path: Path) -> None:
    a, pa, wa = run(tmp_path / "a")
    b, pb, wb = run(tmp_path / "b")
    assert a.history == b.history and np.array_equal(pa, pb)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert [h["epoch"] for h in a.history] == [1, 2, 3] and a.steps == 3 * 8
    assert pa.dtype == np.int64 and a.train_seconds > 0 and a.cpu_seconds > 0
    c, pc, _ = run(tmp_path / "c", seed=1)
    assert c.history != a.history
    # Adadelta barely moves in 24 steps; Adam shows that the loop learns the task
    d, pd, _ = run(tmp_path / "d", replace(CFG, optimizer="adam", lr=0.03, max_epochs=5))
    assert d.best_score == max(h["dev_score"] for h in d.history) > 0.9
    assert d.history[d.best_epoch - 1]["dev_score"] == d.best_score
    assert accuracy(pd) == d.best_score  # the best epoch's weights are loaded at the end


def test_resume_after_interruption_is_exact(tmp_path: Path) -> None:
    straight, p_straight, w_straight = run(tmp_path / "straight")

    class Killed(Exception):
        pass

    def die_at_step_13(metrics: dict[str, float], step: int) -> None:  # mid epoch 2
        if step == 13:
            raise Killed

    cfg = replace(CFG, ckpt_every=3)  # last.pt also every 3 steps inside an epoch
    with pytest.raises(Killed):
        run(tmp_path / "resumed", cfg, log=die_at_step_13)
    ck = torch.load(tmp_path / "resumed" / "last.pt", weights_only=True)
    assert (ck["state"]["epoch"], ck["state"]["step"], ck["state"]["batch"]) == (1, 12, 4)
    resumed, p_resumed, w_resumed = run(tmp_path / "resumed", cfg)
    assert resumed.history == straight.history and resumed.steps == straight.steps
    assert np.array_equal(p_resumed, p_straight)
    assert all(torch.equal(w_resumed[k], w_straight[k]) for k in w_straight)


def test_resume_to_more_epochs_is_exact(tmp_path: Path) -> None:
    straight, p_straight, _ = run(tmp_path / "straight")
    one, _, _ = run(tmp_path / "r", replace(CFG, max_epochs=1))
    assert one.history == straight.history[:1]
    again, p_again, _ = run(tmp_path / "r")
    assert again.history == straight.history and np.array_equal(p_again, p_straight)
    done, p_done, _ = run(tmp_path / "r")  # finished: nothing to do, best weights loaded
    assert done.history == straight.history and done.steps == straight.steps
    assert np.array_equal(p_done, p_straight)
    best = torch.load(tmp_path / "r" / "best.pt", weights_only=True)
    assert best["epoch"] == straight.best_epoch and best["dev_score"] == straight.best_score


def test_a_checkpoint_of_another_run_is_set_aside(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Snakemake reruns a job because something changed: its stale checkpoint must not come back as
    the new run's result, whether the config, the seed, the starting weights or the data changed."""
    fresh = run(tmp_path / "fresh", replace(CFG, lr=0.5))[0]
    run(tmp_path / "r", replace(CFG, max_epochs=1))
    again = run(tmp_path / "r", replace(CFG, lr=0.5))[0]
    assert again.history == fresh.history
    assert "last.pt: written by a different run (differs in ['lr']); starting again" in capsys.readouterr().err
    run(tmp_path / "r", replace(CFG, lr=0.5), seed=5)
    assert "differs in ['seed', 'start']" in capsys.readouterr().err  # the seed also built other weights

    done = run(tmp_path / "w")[0]
    seed_everything(0)
    other_start = build(MODEL, CLS)
    with torch.no_grad():
        other_start.embed.weight.mul_(2.0)  # e.g. other pretrained vectors: same config, same shapes
    other = fit(other_start, CLS, TRAIN, DEV, CFG, 0, tmp_path / "w", dev_score=accuracy)
    assert "differs in ['start']" in capsys.readouterr().err and other.history != done.history
    shuffled = replace(TRAIN, labels=TRAIN.labels[::-1].copy())  # other data, same size
    seed_everything(0)
    fit(build(MODEL, CLS), CLS, shuffled, DEV, CFG, 0, tmp_path / "w", dev_score=accuracy)
    assert "differs in ['start']" in capsys.readouterr().err


def test_default_dev_score_and_bad_checkpoint(tmp_path: Path) -> None:
    pytest.importorskip("seminal.metrics")
    seed_everything(0)
    r = fit(build(MODEL, CLS), CLS, TRAIN, DEV, replace(CFG, max_epochs=1), 0, tmp_path)
    assert 0.0 <= r.history[0]["dev_score"] <= 1.0  # the task's metrics (acc), via seminal.metrics
    (tmp_path / "last.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SeminalError, match="last.pt: cannot read checkpoint"):
        run(tmp_path)


def test_memory_mapped_splits(tmp_path: Path) -> None:
    """Training from load_encoded (read-only memmaps) gives what in-memory arrays give."""
    for name in ("s1_ids", "s1_offsets", "labels"):
        save_npy(tmp_path / "train" / f"{name}.npy", getattr(TRAIN, name))
        save_npy(tmp_path / "dev" / f"{name}.npy", getattr(DEV, name))
    train, dev = load_encoded(tmp_path / "train"), load_encoded(tmp_path / "dev")
    cfg = replace(CFG, max_epochs=1)
    seed_everything(0)
    model = build(MODEL, CLS)
    r = fit(model, CLS, train, dev, cfg, 0, tmp_path / "ck", dev_score=accuracy)
    expected, p_expected, _ = run(tmp_path / "ck2", cfg)
    assert r.history == expected.history
    assert np.array_equal(predict(model, CLS, dev, 16), p_expected)


def test_early_stopping(tmp_path: Path) -> None:
    scores = iter([0.5, 0.7, 0.6, 0.7, 0.9])  # no strict improvement in epochs 3 and 4
    seed_everything(0)
    model = build(MODEL, CLS)
    r = fit(model, CLS, TRAIN, DEV, replace(CFG, max_epochs=5, patience=2), 0, tmp_path,
            dev_score=lambda p: next(scores))
    assert r.stopped_early and [h["dev_score"] for h in r.history] == [0.5, 0.7, 0.6, 0.7]
    assert (r.best_epoch, r.best_score) == (2, 0.7)


def test_regression_pairs(tmp_path: Path) -> None:
    train, dev = pair_data(40, 0), pair_data(16, 1)
    seed_everything(0)
    model = build(MODEL, PAIR)
    logged: list[tuple[dict, int]] = []
    cfg = replace(CFG, optimizer="adam", lr=1e-2, schedule="cosine", warmup_steps=2, max_epochs=2,
                  max_len=6, grad_clip=1.0)
    r = fit(model, PAIR, train, dev, cfg, 0, tmp_path, log=lambda m, s: logged.append((m, s)),
            dev_score=lambda p: -float(np.mean((p - dev.labels) ** 2)))
    p = predict(model, PAIR, dev, 5, max_len=6)
    assert p.dtype == np.float32 and p.shape == (16,)
    assert r.steps == 10 and math.isfinite(r.history[-1]["train_loss"])
    steps = [s for m, s in logged if "train/loss" in m]
    assert steps == list(range(1, 11))
    assert [m["epoch"] for m, s in logged if "dev/score" in m] == [1, 2]
    assert logged[0][0]["train/lr"] == pytest.approx(0.5e-2)  # warmup: step 1 of 2


def test_progress_lines_when_not_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run(tmp_path, replace(CFG, max_epochs=1))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1 step 5 loss ") and "tok/s" in lines[0]
    assert lines[1].startswith("epoch 1 train_loss ") and lines[1].endswith("(best)")


def test_epoch_batches_bucketed_and_deterministic() -> None:
    lengths = np.random.default_rng(0).integers(1, 50, size=103)
    a = epoch_batches(lengths, 10, 3, seed=0, epoch=0)
    assert [x.tolist() for x in a] == [x.tolist() for x in epoch_batches(lengths, 10, 3, 0, 0)]
    assert sorted(np.concatenate(a).tolist()) == list(range(103))
    assert all(np.all(np.diff(lengths[b]) >= 0) for b in a)  # sorted inside each batch
    assert [x.tolist() for x in a] != [x.tolist() for x in epoch_batches(lengths, 10, 3, 0, 1)]


def test_lr_schedules() -> None:
    f = lambda schedule, step, warmup=0: lr_factor(  # noqa: E731
        TrainConfig(schedule=schedule, warmup_steps=warmup), step, total_steps=110)
    assert [f("constant", s, 4) for s in (0, 3, 50)] == [0.25, 1.0, 1.0]
    assert f("linear", 10, 10) == 1.0 and f("linear", 60, 10) == 0.5 and f("linear", 110, 10) == 0.0
    assert f("cosine", 10, 10) == 1.0 and f("cosine", 60, 10) == pytest.approx(0.5)
    assert f("inverse_sqrt", 15, 4) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="step")


def test_tokens_seen_and_the_flops_estimate(tmp_path: Path) -> None:
    """Every epoch sees every sentence once, truncated to max_len; C = tokens x (6 x trained + 2 x
    frozen weights), embedding tables left out: by hand for the Kim CNN of these tests."""
    r, _, _ = run(tmp_path, replace(CFG, max_epochs=2, max_len=5))
    assert r.tokens == 2 * sum(min(len(TRAIN.sentence(i, 1)), 5) for i in range(len(TRAIN)))
    model = build(MODEL, CLS)
    weights = (6 * 8 * 2 + 6) + (6 * 8 * 3 + 6) + (2 * 12 + 2)  # convs (width 2, 3) and output layer; not 30 x 8
    assert train_flops(model, 100) == 100 * 6 * weights
    model.convs[1].requires_grad_(False)
    assert train_flops(model, 100) == 100 * (6 * (weights - 150) + 2 * 150)
