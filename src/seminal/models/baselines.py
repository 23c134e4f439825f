"""Non-neural floors: the majority class and TF-IDF n-grams with a linear model.

Majority predicts the most frequent training class (regression: the training mean), the
"most frequent class" row of GLUE tables. TfidfLogReg is a bag-of-n-grams classifier:
scikit-learn's TfidfVectorizer and LogisticRegression (regression: Ridge). For a sentence pair
one vectoriser, fitted on both sides of the training pairs, encodes each sentence, and the pair
is [u, v, |u - v|, u * v], the combination the GLUE paper's baselines use for pairs
(Wang et al. 2019, Section 5; Conneau et al. 2017, InferSent). Everything is deterministic
(lbfgs, no sampling). On synglue these set the floor that word-order-blind models reach.

The solver runs with one BLAS thread: on these small problems extra threads only contend (a
3-class fit on 1500 pairs took 12 s with the default threads on a loaded 2-core machine, 0.7 s
with one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from threadpoolctl import threadpool_limits  # installed with scikit-learn

from seminal.benchmark import TaskSpec


@dataclass
class MajorityConfig:
    """No hyperparameters."""


class Majority:
    def __init__(self, cfg: MajorityConfig, task: TaskSpec):
        self.cfg, self.task = cfg, task
        self.value: float | int | None = None

    def fit(self, s1: list[str], s2: list[str] | None, y: np.ndarray) -> Majority:
        y = np.asarray(y)
        if self.task.is_regression:
            self.value = float(y.mean())
        else:  # ties go to the lowest class id
            self.value = int(np.bincount(y.astype(np.int64), minlength=self.task.num_labels).argmax())
        return self

    def predict(self, s1: list[str], s2: list[str] | None = None) -> np.ndarray:
        if self.value is None:
            raise RuntimeError("Majority.predict called before fit")
        dtype = np.float64 if self.task.is_regression else np.int64
        return np.full(len(s1), self.value, dtype=dtype)

    def num_parameters(self) -> int:
        return 1


@dataclass
class TfidfLogRegConfig:
    ngram_max: int = 2  # word n-grams 1..ngram_max
    max_features: int = 50000
    min_df: int = 1
    sublinear_tf: bool = True
    token_pattern: str = r"(?u)\b\w+\b"  # keep one-letter words ("a", "i"): they carry meaning here
    C: float = 1.0  # inverse L2 strength of the logistic regression
    max_iter: int = 1000
    alpha: float = 1.0  # L2 strength of the ridge regression (regression tasks)


class TfidfLogReg:
    def __init__(self, cfg: TfidfLogRegConfig, task: TaskSpec):
        self.cfg, self.task = cfg, task
        self.vectorizer = TfidfVectorizer(ngram_range=(1, cfg.ngram_max), max_features=cfg.max_features,
                                          min_df=cfg.min_df, sublinear_tf=cfg.sublinear_tf,
                                          token_pattern=cfg.token_pattern, lowercase=True, dtype=np.float64)
        self.model: LogisticRegression | Ridge | None = None
        self.constant: int | None = None  # a training set with one class predicts it

    def _features(self, s1: list[str], s2: list[str] | None) -> sp.csr_matrix:
        u = self.vectorizer.transform(s1)
        if s2 is None:
            return u.tocsr()
        v = self.vectorizer.transform(s2)
        return sp.hstack([u, v, abs(u - v), u.multiply(v)], format="csr")  # (N, 4V)

    def fit(self, s1: list[str], s2: list[str] | None, y: np.ndarray) -> TfidfLogReg:
        self.vectorizer.fit(list(s1) + (list(s2) if s2 is not None else []))
        x = self._features(s1, s2)
        y = np.asarray(y)
        with threadpool_limits(limits=1, user_api="blas"):
            if self.task.is_regression:
                self.model = Ridge(alpha=self.cfg.alpha).fit(x, y.astype(np.float64))
            elif len(np.unique(y)) < 2:
                self.constant = int(y[0])
            else:
                self.model = LogisticRegression(C=self.cfg.C, max_iter=self.cfg.max_iter).fit(x, y.astype(np.int64))
        return self

    def predict(self, s1: list[str], s2: list[str] | None = None) -> np.ndarray:
        if self.constant is not None:
            return np.full(len(s1), self.constant, dtype=np.int64)
        if self.model is None:
            raise RuntimeError("TfidfLogReg.predict called before fit")
        p = self.model.predict(self._features(s1, s2))
        return p.astype(np.float64) if self.task.is_regression else p.astype(np.int64)

    def num_parameters(self) -> int:
        if self.model is None:
            return 1 if self.constant is not None else 0
        return int(np.size(self.model.coef_) + np.size(self.model.intercept_))
