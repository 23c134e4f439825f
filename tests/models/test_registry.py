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
    from seminal.train import TrainConfig

    make_config(TrainConfig, raw.get("train"), path, "train")
    values: dict = {"vocab_size": 100}
    for field in (raw.get("pretrained") or {}).values():  # the pipeline passes the artifact's path
        vectors = tmp_path / "vectors.npy"
        np.save(vectors, np.random.default_rng(0).standard_normal((100, cfg.embed_dim)).astype(np.float32))
        values[field] = str(vectors)
    model = entry.build(dataclasses.replace(cfg, **values),
                        TaskSpec("T", "pair", "classification", ("a", "b", "c"), ("acc",), {}))
    assert model.num_parameters() > 0
