"""The pretraining loop: schedule, held-out split, exact resume, self-contained checkpoints."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from seminal.errors import SeminalError
from seminal.pretrain import PretrainConfig, learning_rate, load_checkpoint, pretrain, save_checkpoint, split_corpus
from seminal.tokenize import EOS

V, CTX = 12, 8


class Bigram(nn.Module):
    """The smallest language model: next-token logits from the current token (with dropout)."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(V, 16)
        self.out = nn.Linear(16, V)
        self.drop = nn.Dropout(0.1)

    def pretrain_loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        logits = self.out(self.drop(self.emb(batch["x"])))
        loss = F.cross_entropy(logits.reshape(-1, V), batch["y"].reshape(-1))
        return loss, {"lm_loss": loss.item()}

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def make_batch(ids: np.ndarray, batch_size: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    starts = rng.integers(0, len(ids) - CTX - 1, size=batch_size)
    w = np.stack([np.asarray(ids[s:s + CTX + 1], dtype=np.int64) for s in starts])
    return {"x": torch.from_numpy(w[:, :-1]), "y": torch.from_numpy(w[:, 1:])}


def corpus(n: int = 4000) -> np.ndarray:
    """A deterministic cyclic language 7 8 9 10 11 7 8 ... with EOS EOS document breaks."""
    ids = (np.arange(n) % 5 + 7).astype(np.uint16)
    ids[::200] = EOS
    ids[1::200] = EOS
    return ids


CFG = PretrainConfig(lr=0.05, warmup_steps=5, schedule="cosine", min_lr_ratio=0.1, batch_size=8,
                     max_steps=30, eval_every=10, eval_batches=2, ckpt_every=10, log_every=5)


def run(tmp: Path, cfg: PretrainConfig = CFG, log=None):
    torch.manual_seed(0)
    model = Bigram()
    train, valid = split_corpus(corpus(), 0.1)
    return model, pretrain(model, make_batch, train, valid, cfg, seed=3, ckpt_dir=tmp, log=log)


def test_learns_the_language_and_reports_perplexity(tmp_path: Path) -> None:
    _, res = run(tmp_path)
    first, last = res.valid_curve[0], res.final
    assert [c["step"] for c in res.valid_curve] == [10, 20, 30]
    assert last["lm_loss"] < 0.5 * first["lm_loss"] or last["ppl"] < 2.0
    assert last["ppl"] == pytest.approx(math.exp(last["lm_loss"]))
    assert res.steps == 30 and res.tokens == 30 * 8 * CTX


def test_schedule_warmup_then_cosine_to_the_floor() -> None:
    assert learning_rate(CFG, 0) == pytest.approx(0.05 / 5)
    assert learning_rate(CFG, 4) == pytest.approx(0.05)
    assert learning_rate(CFG, 30) == pytest.approx(0.005)  # 10% floor, not 0
    mid = 5 + (30 - 5) // 2
    assert 0.005 < learning_rate(CFG, mid) < 0.05


def test_held_out_split_is_cut_at_a_document_break() -> None:
    ids = corpus()
    train, valid = split_corpus(ids, 0.1)
    assert len(train) + len(valid) == len(ids)
    assert train[-2] == EOS and train[-1] == EOS
    with pytest.raises(SeminalError, match="too small"):
        split_corpus(ids[:1], 0.1)


def test_resume_after_a_kill_ends_where_an_uninterrupted_run_ends(tmp_path: Path) -> None:
    whole, res_whole = run(tmp_path / "a")

    class Killed(Exception):
        pass

    def kill_at_25(metrics: dict, step: int) -> None:
        if step == 25:
            raise Killed  # after the checkpoint at step 20, mid-way to the next
    with pytest.raises(Killed):
        run(tmp_path / "b", log=kill_at_25)
    resumed, res_resumed = run(tmp_path / "b")
    for (k, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), k
    assert res_resumed.valid_curve == res_whole.valid_curve
    assert res_resumed.train_curve == res_whole.train_curve


def test_a_checkpoint_of_another_run_is_set_aside(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    other_cfg = PretrainConfig(**{**CFG.__dict__, "lr": 0.01})
    _, fresh = run(tmp_path / "fresh", other_cfg)
    run(tmp_path / "r")
    _, again = run(tmp_path / "r", other_cfg)
    assert "different pretraining run (differs in ['lr']); starting again" in capsys.readouterr().err
    assert again.valid_curve == fresh.valid_curve and again.train_curve == fresh.train_curve
    torch.manual_seed(1)  # other starting weights (e.g. other sizes or init), same config
    train, valid = split_corpus(corpus(), 0.1)
    pretrain(Bigram(), make_batch, train, valid, other_cfg, seed=3, ckpt_dir=tmp_path / "r")
    assert "differs in ['start']" in capsys.readouterr().err


def test_checkpoint_round_trip_and_errors(tmp_path: Path) -> None:
    model, res = run(tmp_path / "ck")
    path = tmp_path / "model.pt"
    save_checkpoint(path, "bigram", CFG, model, res.final)
    config, state = load_checkpoint(path, expect_model="bigram")
    assert config["lr"] == 0.05 and torch.equal(state["emb.weight"], model.emb.weight)
    with pytest.raises(SeminalError, match="expected 'gpt'"):
        load_checkpoint(path, expect_model="gpt")
    with pytest.raises(SeminalError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")
    path.write_bytes(path.read_bytes()[:100])  # truncated
    with pytest.raises(SeminalError, match="cannot read checkpoint"):
        load_checkpoint(path)
