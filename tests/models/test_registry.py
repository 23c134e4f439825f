"""Every model named in config/models/*.yaml resolves in the registry, and every key of each file
is a field of the right config dataclass; torch models build from their shipped config."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from seminal.benchmark import TaskSpec
from seminal.models import KINDS, REGISTRY

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "config" / "models").glob("*.yaml"))


def available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def test_entries() -> None:
    assert {"majority", "tfidf_logreg", "kim_cnn"} <= set(REGISTRY)
    assert REGISTRY["kim_cnn"].paper == "kim2014"
    assert REGISTRY["majority"].paper is None and REGISTRY["tfidf_logreg"].paper is None
    for name, entry in REGISTRY.items():
        assert entry.kind in KINDS, name
        if not available(entry.module):
            continue  # written by another worker; resolved once it lands
        assert dataclasses.is_dataclass(entry.config_cls), name
        assert callable(entry.build), name


def test_there_are_configs() -> None:
    assert any(p.name == "kim_cnn_rand.yaml" for p in CONFIGS)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_file(path: Path, tmp_path: Path) -> None:
    """Each shipped model file loads through the pipeline's own loader and builds its model."""
    from seminal.experiment import load_model_config, make_config

    raw = load_model_config(path)
    entry = REGISTRY[raw["model"]]
    cfg = make_config(entry.config_cls, raw.get("model_config"), path, "model_config")
    if entry.kind == "sklearn":
        assert "train" not in raw, f"{path.name}: scikit-learn models take no train section"
        return
    values: dict = {"vocab_size": 100}
    for name, field in (raw.get("pretrained") or {}).items():  # the pipeline passes the artifact's path
        values[field] = str(pretrained_artifact(name, cfg, tmp_path))
    cfg = dataclasses.replace(cfg, **values)
    if entry.kind == "icl":  # evaluated in context: no training, no task head
        assert "train" not in raw, f"{path.name}: in-context models take no train section"
        assert entry.build(cfg).num_parameters() > 0
        return
    from seminal.train import TrainConfig

    make_config(TrainConfig, raw.get("train"), path, "train")
    model = entry.build(cfg, TaskSpec("T", "pair", "classification", ("a", "b", "c"), ("acc",), {}))
    assert model.num_parameters() > 0


def pretrained_artifact(name: str, cfg, tmp_path: Path) -> Path:
    """What the pipeline's pretraining `name` would produce, at the shipped config, for vocab 100:
    word2vec's vectors, or config/pretrain/<name>.yaml's checkpoint (random weights)."""
    if name == "word2vec":
        vectors = tmp_path / "vectors.npy"
        np.save(vectors, np.random.default_rng(0).standard_normal((100, cfg.embed_dim)).astype(np.float32))
        return vectors
    from seminal.experiment import load_pretrain_config, make_config
    from seminal.pretrain import save_checkpoint

    config = CONFIGS[0].parents[1] / "pretrain" / f"{name}.yaml"
    raw = load_pretrain_config(config)
    entry = REGISTRY[raw["model"]]
    pcfg = make_config(entry.pretrain_config_cls, raw.get("model_config"), config, "model_config")
    extra = {"spm": str(tiny_spm(tmp_path))} if "spm" in {f.name for f in dataclasses.fields(pcfg)} else {}
    pcfg = dataclasses.replace(pcfg, vocab_size=100, **extra)
    path = tmp_path / f"{name}.pt"
    save_checkpoint(path, raw["model"], pcfg, entry.attr("build_pretrain")(pcfg), {})
    return path


def tiny_spm(tmp_path: Path) -> Path:
    """A 100-piece sentencepiece model (ELMo's character table is built from the pieces)."""
    from seminal.tokenize import train_tokenizer

    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), size=rng.integers(2, 9))) for _ in range(400)]
    text = tmp_path / "c.txt"
    text.write_text("\n".join(" ".join(rng.choice(words, size=10)) for _ in range(2000)) + "\n", encoding="utf-8")
    train_tokenizer([text], tmp_path / "spm", 100)
    return tmp_path / "spm.model"
