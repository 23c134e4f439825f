"""Kim (2014), "Convolutional Neural Networks for Sentence Classification", EMNLP.

One convolution layer over word vectors, max-over-time pooling, dropout and a softmax layer.
Read top to bottom: config -> model -> builder. Design choices and where they come from:

- §2, eq. (2): a filter w in R^{hk} over a window of h words, c_i = f(w . x_{i:i+h-1} + b),
  f = ReLU (§3.1); several widths h, each with many feature maps (§3.1: 3, 4, 5 x 100).
- §2, after eq. (3): max-over-time pooling c_hat = max{c}, one feature per filter. We pool over the
  windows that lie inside the sentence only (padding in a batch never wins the max), and a
  sentence shorter than the widest filter is padded with zero vectors to that width, which is
  what "padded where necessary" (§2) amounts to for it. (Kim's code instead pads every sentence
  to the corpus maximum plus h_max - 1 zero vectors each side, and pools over all windows.)
- §2: the pooled features z form the penultimate layer, followed by a fully connected softmax
  layer. §2.1, eq. (5): dropout (p = 0.5, §3.1) on z in training, and an l2-norm constraint: after
  every gradient step, each output weight vector w with ||w||_2 > s is rescaled to s = 3
  (§3.1). The trainer calls `apply_max_norm()` after each step. We use inverted dropout (scale
  at training time), which is equivalent to the paper's scaling of the weights at test time.
- §3.1: mini-batches of 50, Adadelta (rho = 0.95; Kim's code), early stopping on dev: these
  live in config/models/kim_cnn_rand.yaml and seminal.train.
- §3.3, variants: CNN-rand (vectors initialised at random and trained), CNN-static (pretrained,
  frozen), CNN-non-static (pretrained, fine-tuned), CNN-multichannel (one frozen and one tuned
  copy; "each filter is applied to both channels and the results are added", which equals one
  filter over the sum of the two channels' vectors, so that is how it is computed here).
  Pretrained vectors are read from a (vocab_size, embed_dim) float32 .npy (`vectors`).

Deviations from the paper, stated where they happen:
- Tokens are sentencepiece pieces, not words (the whole project shares one tokenizer).
- Sentence-pair tasks (not in the paper): both sentences go through the same CNN, and the
  output layer sees [u; v; |u - v|; u * v], the combination of the GLUE baselines (Wang et al.
  2019, after Conneau et al. 2017). Regression tasks (STS-B) use one output and MSE loss.
- Random vectors are U[-0.25, 0.25] as in Kim's released code (the paper only says "randomly
  initialised"); convolution and output layers use PyTorch's default initialisation (the paper
  does not say; Kim's code uses Glorot-uniform filters and a zero output layer).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from seminal.benchmark import TaskSpec
from seminal.errors import SeminalError

PAD_ID = 0  # seminal.tokenize.PAD
VARIANTS = ("rand", "static", "non-static", "multichannel")
RAND_INIT = 0.25  # Kim's code: U[-0.25, 0.25], about the variance of the word2vec vectors


@dataclass
class KimCNNConfig:
    vocab_size: int = 0  # set from the tokenizer
    num_labels: int = 2  # set from the task; 1 = regression
    pair: bool = False  # set from the task: two sentences, combined as [u; v; |u-v|; u*v]
    embed_dim: int = 300  # §3.2: 300-d word2vec vectors
    filter_widths: tuple[int, ...] = (3, 4, 5)  # §3.1
    num_filters: int = 100  # §3.1: feature maps per width
    dropout: float = 0.5  # §3.1
    max_norm: float = 3.0  # §3.1: l2 constraint s on the output weights
    variant: str = "rand"  # §3.3: rand | static | non-static | multichannel
    vectors: str | None = None  # (vocab_size, embed_dim) float32 .npy; needed unless variant 'rand'

    def __post_init__(self) -> None:
        self.filter_widths = tuple(int(h) for h in self.filter_widths)
        # ValueError: the config loader (seminal.experiment.make_config) adds the file name
        if self.variant not in VARIANTS:
            raise ValueError(f"Kim CNN variant {self.variant!r} is not one of {VARIANTS}")
        if not self.filter_widths or min(self.filter_widths) < 1:
            raise ValueError(f"Kim CNN filter_widths must be positive, got {self.filter_widths}")


def load_vectors(path: str | Path, vocab_size: int, embed_dim: int) -> torch.Tensor:
    """Pretrained vectors, one row per token id, as a (vocab_size, embed_dim) float32 .npy."""
    try:
        vectors = np.load(path)
    except (OSError, ValueError) as e:
        raise SeminalError(f"cannot read word vectors ({e})", path) from e
    if vectors.shape != (vocab_size, embed_dim) or vectors.dtype != np.float32:
        raise SeminalError(f"word vectors are {vectors.dtype}{vectors.shape}, expected "
                           f"float32({vocab_size}, {embed_dim})", path)
    vectors = torch.from_numpy(np.array(vectors))
    vectors[PAD_ID] = 0.0  # padding is a zero vector, as in Kim's code
    return vectors


class KimCNN(nn.Module):
    def __init__(self, cfg: KimCNNConfig):
        super().__init__()
        if cfg.vocab_size <= 0 or cfg.num_labels <= 0:
            raise SeminalError("Kim CNN needs vocab_size and num_labels (set them from the data)")
        if cfg.variant != "rand" and not cfg.vectors:
            raise SeminalError(f"Kim CNN variant {cfg.variant!r} needs pretrained vectors: set "
                               "model_config.vectors to a (vocab_size, embed_dim) float32 .npy")
        self.cfg = cfg
        V, D = cfg.vocab_size, cfg.embed_dim
        self.embed = nn.Embedding(V, D, padding_idx=PAD_ID)  # the trained channel
        self.static: nn.Embedding | None = None  # the frozen channel (multichannel only)
        if cfg.variant == "rand":
            nn.init.uniform_(self.embed.weight, -RAND_INIT, RAND_INIT)
            with torch.no_grad():
                self.embed.weight[PAD_ID] = 0.0
        else:
            vectors = load_vectors(cfg.vectors, V, D)  # type: ignore[arg-type]
            self.embed.weight.data.copy_(vectors)
            if cfg.variant == "static":
                self.embed.weight.requires_grad_(False)
            elif cfg.variant == "multichannel":
                self.static = nn.Embedding.from_pretrained(vectors.clone(), freeze=True,
                                                           padding_idx=PAD_ID)
        self.convs = nn.ModuleList(nn.Conv1d(D, cfg.num_filters, h) for h in cfg.filter_widths)
        self.dropout = nn.Dropout(cfg.dropout)
        n_features = cfg.num_filters * len(cfg.filter_widths) * (4 if cfg.pair else 1)
        self.out = nn.Linear(n_features, cfg.num_labels)

    def encode(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, T) right-padded ids -> (B, num_filters * len(filter_widths)) pooled features z."""
        lengths = (ids != PAD_ID).sum(dim=1)  # (B,)
        widest = max(self.cfg.filter_widths)
        if ids.size(1) < widest:  # every sentence gets at least one full window (§2)
            ids = F.pad(ids, (0, widest - ids.size(1)), value=PAD_ID)
        x = self.embed(ids)  # (B, T, D)
        if self.static is not None:  # multichannel: w.x_static + w.x_tuned = w.(x_static + x_tuned)
            x = x + self.static(ids)
        x = x.transpose(1, 2)  # (B, D, T)
        pooled = []
        for conv, h in zip(self.convs, self.cfg.filter_widths):
            c = F.relu(conv(x))  # (B, F, T-h+1), eq. (2)
            n_windows = (lengths - h + 1).clamp(min=1)  # windows inside the sentence
            outside = torch.arange(c.size(2), device=c.device)[None, :] >= n_windows[:, None]
            c = c.masked_fill(outside[:, None, :], float("-inf"))
            pooled.append(c.max(dim=2).values)  # (B, F), c_hat = max{c}
        return torch.cat(pooled, dim=1)  # (B, F * len(widths))

    def forward(self, s1: torch.Tensor, s2: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, num_labels), or scores (B,) when num_labels == 1 (regression)."""
        if self.cfg.pair:
            if s2 is None:
                raise SeminalError("this Kim CNN was built for sentence pairs; pass s2")
            T = max(s1.size(1), s2.size(1))  # one pass of the shared CNN over both sentences
            both = torch.cat([F.pad(s1, (0, T - s1.size(1))), F.pad(s2, (0, T - s2.size(1)))])
            u, v = self.encode(both).chunk(2)  # (B, F*) each
            z = torch.cat([u, v, (u - v).abs(), u * v], dim=1)  # (B, 4 F*)
        else:
            z = self.encode(s1)
        logits = self.out(self.dropout(z))  # §2.1: dropout on the penultimate layer
        return logits.squeeze(1) if self.cfg.num_labels == 1 else logits

    @torch.no_grad()
    def apply_max_norm(self) -> None:
        """§2.1: rescale each output weight vector (one row per class) to l2 norm <= s."""
        self.out.weight.renorm_(p=2, dim=0, maxnorm=self.cfg.max_norm)  # rows with norm <= s untouched

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


def build(cfg: KimCNNConfig, task: TaskSpec) -> KimCNN:
    """The registry's builder: the task sets the output size and whether inputs are pairs."""
    return KimCNN(replace(cfg, num_labels=task.num_labels, pair=task.is_pair))
