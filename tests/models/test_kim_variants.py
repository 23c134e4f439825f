"""Kim (2014) CNN-static, CNN-non-static and CNN-multichannel from the shipped configs and vectors
written by seminal.word2vec: each builds and trains a step; static vectors stay fixed, non-static
ones move, and multichannel has one fixed and one trained channel."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seminal.benchmark import TaskSpec
from seminal.experiment import load_model_config, make_config
from seminal.models.kim_cnn import KimCNNConfig, build
from seminal.train import TrainConfig, make_optimizer
from seminal.word2vec import EOS, Word2VecConfig, train_word2vec

torch.set_num_threads(1)
CONFIGS = Path(__file__).resolve().parents[2] / "config" / "models"
VARIANTS = {"kim_cnn_static": "static", "kim_cnn_nonstatic": "non-static",
            "kim_cnn_multichannel": "multichannel"}
V, D = 40, 8


@pytest.fixture(scope="module")
def vectors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny encoded corpus (ids 7..39, EOS after each sentence) -> word2vec vectors.npy."""
    out = tmp_path_factory.mktemp("w2v")
    rng = np.random.default_rng(0)
    ids: list[int] = []
    for _ in range(200):
        ids += [*rng.integers(7, V, rng.integers(2, 10)).tolist(), EOS]
    np.save(out / "ids.npy", np.asarray(ids, dtype=np.uint16))
    train_word2vec(out / "ids.npy", V, Word2VecConfig(dim=D, epochs=1, min_count=1), seed=0, out_dir=out)
    return out / "vectors.npy"


def test_shipped_variant_configs() -> None:
    rand = load_model_config(CONFIGS / "kim_cnn_rand.yaml")
    fields = {f.name for f in dataclasses.fields(KimCNNConfig)}
    for name, variant in VARIANTS.items():
        raw = load_model_config(CONFIGS / f"{name}.yaml")
        assert raw["model"] == "kim_cnn" and raw["model_config"]["variant"] == variant
        assert raw["pretrained"] == {"word2vec": "vectors"} and "vectors" in fields
        assert raw["train"] == rand["train"]  # same training as CNN-rand (§3.1)
        assert {k: v for k, v in raw["model_config"].items() if k != "variant"} == {
            k: v for k, v in rand["model_config"].items() if k != "variant"}


def trained_step(name: str, vectors: Path) -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    """Build the variant as the pipeline does (the config file plus --set model_config.vectors),
    at tiny sizes, and take one Adadelta step from its train section; returns the model and
    its embedding tables before the step."""
    path = CONFIGS / f"{name}.yaml"
    raw = load_model_config(path, [f"model_config.vectors={vectors}", f"model_config.embed_dim={D}",
                                   "model_config.num_filters=4", "train.batch_size=6"])
    cfg = dataclasses.replace(make_config(KimCNNConfig, raw["model_config"], path, "model_config"),
                              vocab_size=V)
    train_cfg = make_config(TrainConfig, raw["train"], path, "train")
    torch.manual_seed(0)
    model = build(cfg, TaskSpec("T", "single", "classification", ("a", "b"), ("acc",), {}))
    before = {k: v.detach().clone() for k, v in model.state_dict().items() if "embed" in k or "static" in k}
    opt = make_optimizer(model, train_cfg)
    x = torch.randint(7, V, (train_cfg.batch_size, 9), generator=torch.Generator().manual_seed(0))
    loss = F.cross_entropy(model(x), torch.arange(train_cfg.batch_size) % 2)
    opt.zero_grad()
    loss.backward()
    opt.step()
    model.apply_max_norm()
    return model, before


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_starts_from_the_word2vec_vectors_and_trains(name: str, vectors: Path) -> None:
    w2v = torch.from_numpy(np.load(vectors))
    w2v[0] = 0.0  # [PAD] is a zero vector in the model
    model, before = trained_step(name, vectors)
    torch.testing.assert_close(before["embed.weight"], w2v, rtol=0, atol=0)
    moved = not torch.equal(model.embed.weight, before["embed.weight"])
    if VARIANTS[name] == "static":
        assert not moved and not model.embed.weight.requires_grad and model.static is None
    elif VARIANTS[name] == "non-static":
        assert moved and model.static is None
    else:  # multichannel: the tuned channel moves, the static copy does not
        assert moved and model.static is not None and not model.static.weight.requires_grad
        torch.testing.assert_close(before["static.weight"], w2v, rtol=0, atol=0)
        assert torch.equal(model.static.weight, before["static.weight"])
    assert model.embed.weight[0].abs().sum() == 0  # padding never trained
    assert not torch.equal(model.out.weight, torch.zeros_like(model.out.weight))
