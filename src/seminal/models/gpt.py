"""Brown et al. (2020), "Language Models are Few-Shot Learners", NeurIPS: GPT-3, scaled down.

Read top to bottom: masks -> attention -> MLP -> block -> config -> the language model ->
pretraining batches. GPT-3 is GPT-2 (Radford et al. 2019) with one architectural change; the
design choices and where they come from:

- §2.1: "We use the same model and architecture as GPT-2 [...] including the modified
  initialization, pre-normalization, and reversible tokenization [...], with the exception that
  we use alternating dense and locally banded sparse attention patterns in the layers of the
  transformer, similar to the Sparse Transformer". So:
  * decoder-only, causal; pre-LN blocks x + Attn(LN(x)), x + MLP(LN(x)) and a final LayerNorm
    (GPT-2 §2.3);
  * learned position embeddings (GPT-1/2), token embedding tied to the output softmax;
  * MLP d_ff = 4 d_model (Table 2.1: "the feedforward layer is always four times the size of
    the bottleneck layer"), GELU (GPT-1 §4.1), biases on every Linear (as GPT-2);
  * the "modified initialization" of GPT-2 §2.3: residual projections (attention output,
    MLP output) scaled by 1/sqrt(N) where N = number of residual layers = 2 n_layer; everything
    else N(0, 0.02) (GPT-1 §4.1), biases 0;
  * layer i uses dense causal attention for even i and **locally banded** causal attention for
    odd i: query t sees keys t-band+1 .. t (Child et al. 2019, §4.2's local part). The band
    width is not stated in the GPT-3 paper; EleutherAI's open replication (GPT-Neo) uses a
    256-token local window at 2048 context, i.e. n_ctx / 8, the default here. The band is an
    attention *mask* (causal ∩ band) for F.scaled_dot_product_attention: the same function as
    the Sparse Transformer's kernel, without its saving in compute (a CPU has no block-sparse
    kernel; at our context lengths the dense kernel with a mask is the fastest we have).
- Table 2.1, GPT-3 Small: n_layer 12, d_model 768, n_head 12, d_head 64, n_ctx 2048, batch
  0.5M tokens, lr 6e-4. Appendix B: Adam beta = (0.9, 0.95), eps 1e-8, gradient clipping at
  1.0, weight decay 0.1, linear warmup over the first 375M tokens then cosine decay to 10% of
  the peak over 260B tokens; sequences are full 2048-token windows of the token stream
  (documents concatenated, separated by an end-of-text token). `PRETRAIN_DEFAULTS` holds these
  for config/pretrain/gpt_*.yaml; the loop itself is seminal.pretrain's.
- Dropout is not stated in the GPT-3 paper; we use none (each of our runs sees well under one
  epoch of the corpus, so there is nothing to regularise against).

Evaluation is by in-context learning (seminal.icl): `forward(idx, pos, mask)` also accepts
per-token positions and an explicit (B, T, T) "may attend" mask, so that several candidate
completions can share one prompt in one forward pass (each completion attends to the prompt and
to itself only; positions continue from the prompt's end). With the defaults (pos None, mask
None) it is the ordinary causal LM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seminal.errors import SeminalError

# Appendix B of the paper (GPT-3 Small column of Table 2.1 for lr), in the field names of
# seminal.pretrain.PretrainConfig. The shipped YAMLs scale steps, batch and warmup down.
PRETRAIN_DEFAULTS = {
    "optimizer": "adamw",  # Appendix B: Adam with decoupled weight decay 0.1
    "lr": 6.0e-4,  # Table 2.1, GPT-3 Small
    "betas": (0.9, 0.95),  # Appendix B
    "eps": 1.0e-8,  # Appendix B
    "weight_decay": 0.1,  # Appendix B
    "schedule": "cosine",  # Appendix B: cosine decay ...
    "min_lr_ratio": 0.1,  # ... "down to 10% of its value"
    "grad_clip": 1.0,  # Appendix B: "clip the global norm of the gradient at 1.0"
}


# ---------------------------------------------------------------------------------------------
# attention masks (True = query row may attend to key column)


def causal_mask(n: int, device: torch.device | None = None) -> torch.Tensor:
    """(n, n) bool: query t sees keys 0..t."""
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


def banded_mask(n: int, band: int, device: torch.device | None = None) -> torch.Tensor:
    """(n, n) bool: causal ∩ local band, query t sees keys max(0, t-band+1)..t (band keys,
    itself included). band >= n is the dense causal mask."""
    if band < 1:
        raise SeminalError(f"GPT band width must be >= 1, got {band}")
    i = torch.arange(n, device=device)
    d = i[:, None] - i[None, :]  # (n, n): query position - key position
    return (d >= 0) & (d < band)


def layer_is_sparse(i: int, band: int) -> bool:
    """§2.1 "alternating dense and locally banded sparse" layers: even layers dense, odd banded.
    band 0 turns the banded layers off (every layer dense: the GPT-2 ablation)."""
    return band > 0 and i % 2 == 1


# ---------------------------------------------------------------------------------------------
# the blocks


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention, dense or locally banded (one (d, 3d) projection)."""

    def __init__(self, d_model: int, n_head: int, band: int | None, dropout: float):
        super().__init__()
        self.n_head, self.d_head = n_head, d_model // n_head
        self.band = band  # None: dense
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)  # residual projection: scaled init (GPT-2 §2.3)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, pos: torch.Tensor | None) -> torch.Tensor:
        """x (B, T, d); mask None (plain causal) or (B, T, T) bool; pos None (0..T-1) or (B, T)."""
        B, T, d = x.shape
        # (B, T, 3d) -> three (B, h, T, d_head) strided views: SDPA reads strides, so no copy is
        # needed (measured by `seminal bench`: 8% faster per step than making them contiguous)
        q, k, v = (t.view(B, T, self.n_head, self.d_head).transpose(1, 2) for t in self.qkv(x).split(d, dim=2))
        p = self.dropout if self.training else 0.0
        if mask is None and self.band is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)
        else:
            if mask is None:
                allowed = banded_mask(T, self.band, x.device)  # (T, T), broadcast over B and heads
            else:
                allowed = mask  # (B, T, T)
                if self.band is not None:
                    pp = torch.arange(T, device=x.device).expand(B, T) if pos is None else pos
                    dist = pp[:, :, None] - pp[:, None, :]  # (B, T, T) query pos - key pos
                    allowed = allowed & (dist < self.band)
                allowed = allowed[:, None]  # (B, 1, T, T)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=p)
        y = y.transpose(1, 2).contiguous().view(B, T, d)  # (B, T, d): heads concatenated
        return self.proj(y)


class MLP(nn.Module):
    """Position-wise feed-forward: fc2(GELU(fc1(x))), d_ff = 4 d_model (Table 2.1)."""

    def __init__(self, d_model: int, d_ff: int):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)  # residual projection: scaled init

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-LN (GPT-2 §2.3): x = x + Attn(LN(x)); x = x + MLP(LN(x))."""

    def __init__(self, d_model: int, n_head: int, d_ff: int, band: int | None, dropout: float):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(d_model), CausalSelfAttention(d_model, n_head, band, dropout)
        self.ln2, self.mlp = nn.LayerNorm(d_model), MLP(d_model, d_ff)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, pos: torch.Tensor | None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln1(x), mask, pos))
        return x + self.drop(self.mlp(self.ln2(x)))


# ---------------------------------------------------------------------------------------------
# config and model


@dataclass
class GPTConfig:
    vocab_size: int = 0  # set from the tokenizer (GPT-3: 50257 BPE tokens, GPT-2's)
    n_layer: int = 12  # Table 2.1, GPT-3 Small: n_layers 12
    d_model: int = 768  # Table 2.1: d_model 768
    n_head: int = 12  # Table 2.1: n_heads 12 (d_head 64)
    d_ff: int = 3072  # Table 2.1: 4 * d_model
    n_ctx: int = 2048  # §2.1 / Table 2.1: context window 2048 tokens for all sizes
    band: int = 256  # §2.1 banded layers; width not stated: GPT-Neo's 256 at 2048 (n_ctx / 8); 0 = none
    dropout: float = 0.0  # not stated in the paper (see the module docstring)
    init_std: float = 0.02  # GPT-1 §4.1 N(0, 0.02); residual projections / sqrt(2 n_layer) (GPT-2 §2.3)

    def __post_init__(self) -> None:
        # ValueError: the config loader adds the file name
        if self.d_model % self.n_head:
            raise ValueError(f"GPT d_model {self.d_model} must be divisible by n_head {self.n_head}")
        if min(self.n_layer, self.d_ff, self.n_ctx) < 1 or self.band < 0:
            raise ValueError("GPT n_layer, d_ff, n_ctx must be >= 1 and band >= 0")


@dataclass
class GPTEvalConfig:
    """How a pretrained GPT is evaluated on a task: in context, no gradient step (§2, §2.4)."""

    vocab_size: int = 0  # set from the tokenizer; must match the checkpoint's
    checkpoint: str | None = None  # model.pt of a pretrained GPT (set by the pipeline)
    max_few: int = 10  # §2.4: few-shot K = as many as fit the context (10-100 in the paper); cut to n_ctx
    max_examples: int | None = None  # evaluate a fixed random subset of this many dev examples; None = all
    batch_size: int = 16  # prompts scored together (no effect on the numbers)

    def __post_init__(self) -> None:
        if self.max_few < 1 or (self.max_examples is not None and self.max_examples < 1):
            raise ValueError("GPT eval max_few and max_examples must be >= 1")


def load_pretrained(cfg: GPTEvalConfig) -> GPT:
    """The pretrained GPT named by cfg.checkpoint (seminal.pretrain.save_checkpoint's file)."""
    from seminal.pretrain import load_checkpoint

    if not cfg.checkpoint:
        raise SeminalError("GPT evaluation needs model_config.checkpoint (a pretrained model.pt)")
    config, state = load_checkpoint(cfg.checkpoint, expect_model="gpt")
    if cfg.vocab_size and config["vocab_size"] != cfg.vocab_size:
        raise SeminalError(f"checkpoint vocabulary {config['vocab_size']} != tokenizer's {cfg.vocab_size}",
                           cfg.checkpoint)
    model = GPT(GPTConfig(**config))
    model.load_state_dict(state)
    return model.eval()


class GPT(nn.Module):
    """The decoder-only language model: logits over the vocabulary at every position."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        if cfg.vocab_size <= 0:
            raise SeminalError("GPT needs vocab_size (set it from the tokenizer)")
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)  # tied to the output softmax
        self.wpe = nn.Embedding(cfg.n_ctx, cfg.d_model)  # learned positions
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(
            Block(cfg.d_model, cfg.n_head, cfg.d_ff, cfg.band if layer_is_sparse(i, cfg.band) else None,
                  cfg.dropout)
            for i in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model)  # GPT-2 §2.3: a final LayerNorm after the last block
        self._init_weights()

    def _init_weights(self) -> None:
        std = self.cfg.init_std
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, std)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, 0.0, std)
        for block in self.blocks:  # GPT-2 §2.3: 1/sqrt(N), N = 2 residual layers per block
            for w in (block.attn.proj.weight, block.mlp.fc2.weight):
                nn.init.normal_(w, 0.0, std / math.sqrt(2 * self.cfg.n_layer))

    def forward(self, idx: torch.Tensor, pos: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """idx (B, T) ids -> logits (B, T, vocab). pos (B, T) position ids (default 0..T-1);
        mask (B, T, T) bool "query may attend key" replacing the causal mask (default causal)."""
        T = idx.size(1)
        if pos is None:
            if T > self.cfg.n_ctx:
                raise SeminalError(f"a sequence of {T} tokens is longer than GPT's n_ctx {self.cfg.n_ctx}")
            pe = self.wpe.weight[:T]  # (T, d)
        else:
            if int(pos.max()) >= self.cfg.n_ctx:
                raise SeminalError(f"position {int(pos.max())} is beyond GPT's n_ctx {self.cfg.n_ctx}")
            pe = self.wpe(pos)  # (B, T, d)
        x = self.drop(self.wte(idx) + pe)  # (B, T, d)
        for block in self.blocks:
            x = block(x, mask, pos)
        return F.linear(self.ln_f(x), self.wte.weight)  # (B, T, vocab): tied embeddings

    def pretrain_loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        """Mean next-token cross-entropy (nats) over the batch's B x n_ctx positions."""
        logits = self(batch["x"])
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), batch["y"].reshape(-1))
        return loss, {"lm_loss": float(loss.detach())}

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


def build_pretrain(cfg: GPTConfig) -> GPT:
    return GPT(cfg)


def make_pretrain_batch(ids: np.ndarray, cfg: GPTConfig, batch_size: int,
                        rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """Random windows of n_ctx + 1 ids from the flat corpus stream (Appendix B: full context
    windows over concatenated documents; our documents are separated by EOS EOS). x = the
    first n_ctx ids, y = the same shifted by one. Deterministic given rng."""
    n = cfg.n_ctx + 1
    if len(ids) < n:
        raise SeminalError(f"the corpus has {len(ids)} ids, fewer than one window of n_ctx + 1 = {n}")
    starts = rng.integers(0, len(ids) - n + 1, size=batch_size)  # (B,)
    w = np.asarray(ids[starts[:, None] + np.arange(n)], dtype=np.int64)  # (B, n_ctx + 1)
    w = torch.from_numpy(w)
    return {"x": w[:, :-1].contiguous(), "y": w[:, 1:].contiguous()}
