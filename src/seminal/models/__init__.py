"""The model registry: an explicit dict from the name used in config/models/*.yaml to its code.

    REGISTRY["kim_cnn"].config_cls   -> KimCNNConfig        (dataclass; defaults = the paper's)
    REGISTRY["kim_cnn"].build        -> build(cfg, task)    (returns the model)
    REGISTRY["kim_cnn"].paper        -> "kim2014"           (papers/<citekey>/, None for baselines)
    REGISTRY["kim_cnn"].kind         -> "torch"             (trained by seminal.train) | "sklearn" | "icl"
    REGISTRY["bert"].pretrain_config -> "BertConfig"        (pretrained models: the module also has
                                                             build_pretrain(cfg), make_pretrain_batch)

Entries name their module and attributes as strings and import them on first use, so that
looking up a scikit-learn baseline does not import torch. A builder is any callable
(config, TaskSpec) -> model: a function, or the model class itself. A model config file reads

    model: kim_cnn
    model_config: {...}    # fields of the config dataclass
    train: {...}           # fields of seminal.train.TrainConfig (torch models only)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KINDS = ("torch", "sklearn", "icl")  # icl: evaluated by in-context learning, no gradient step


@dataclass(frozen=True)
class ModelEntry:
    module: str  # e.g. "seminal.models.kim_cnn"
    config: str  # name of the config dataclass in `module`
    builder: str  # name of the builder in `module`: (config, TaskSpec) -> model
    paper: str | None  # citekey in papers/references.bib; None for baselines
    kind: str  # "torch" | "sklearn" | "icl"
    pretrain_config: str | None = None  # name of the pretraining config dataclass in `module`

    @property
    def config_cls(self) -> type:
        return getattr(importlib.import_module(self.module), self.config)

    @property
    def pretrain_config_cls(self) -> type:
        if self.pretrain_config is None:
            raise KeyError(f"{self.module} has no pretraining")
        return getattr(importlib.import_module(self.module), self.pretrain_config)

    def attr(self, name: str) -> Any:
        """Any other attribute of the model's module (build_pretrain, make_pretrain_batch, ...)."""
        return getattr(importlib.import_module(self.module), name)

    @property
    def build(self) -> Callable[[Any, Any], Any]:
        return getattr(importlib.import_module(self.module), self.builder)


REGISTRY: dict[str, ModelEntry] = {
    "majority": ModelEntry("seminal.models.baselines", "MajorityConfig", "Majority",
                           paper=None, kind="sklearn"),
    "tfidf_logreg": ModelEntry("seminal.models.baselines", "TfidfLogRegConfig", "TfidfLogReg",
                               paper=None, kind="sklearn"),
    "kim_cnn": ModelEntry("seminal.models.kim_cnn", "KimCNNConfig", "build",
                          paper="kim2014", kind="torch"),
    "lstm": ModelEntry("seminal.models.lstm", "LSTMConfig", "build",
                       paper="hochreiter1997", kind="torch"),
    "transformer": ModelEntry("seminal.models.transformer", "TransformerConfig", "build",
                              paper="vaswani2017", kind="torch"),
    "elmo": ModelEntry("seminal.models.elmo", "ELMoTaskConfig", "build",
                       paper="peters2018", kind="torch", pretrain_config="ELMoConfig"),
    "bert": ModelEntry("seminal.models.bert", "BertTaskConfig", "build",
                       paper="devlin2019", kind="torch", pretrain_config="BertConfig"),
    "gpt": ModelEntry("seminal.models.gpt", "GPTEvalConfig", "load_pretrained",
                      paper="brown2020", kind="icl", pretrain_config="GPTConfig"),
}

