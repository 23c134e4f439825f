"""Vaswani et al. (2017), "Attention Is All You Need", NeurIPS: the Transformer.

Read top to bottom: attention -> feed-forward -> encoder block -> decoder block -> embeddings ->
config -> the task model (encoder + classification/regression head) -> the encoder-decoder.
Design choices and where they come from:

- §3.2.1, eq. (1): Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V, computed by
  F.scaled_dot_product_attention. §3.2.2: h heads of d_k = d_v = d_model / h, projected by
  W^Q, W^K, W^V and concatenated through W^O. The paper's projections are matrices without
  biases (as in tensor2tensor), so ours are too. q, k, v come from ONE (d, 3d) Linear, reshaped
  and transposed into contiguous (B, h, T, d_k) tensors, since non-contiguous views feeding
  the matmuls can fall off torch's fast CPU path (measured: papers/vaswani2017/README.md, "Speed").
- §3.3, eq. (2): FFN(x) = max(0, x W1 + b1) W2 + b2, d_ff = 4 d_model.
- §3.1: each sub-layer is wrapped as LayerNorm(x + Sublayer(x)) ("post-LN"; later work, e.g.
  GPT-2, moved the norm in front). Encoder block: self-attention, FFN. Decoder block: masked
  (causal) self-attention, attention over the encoder output, FFN. No final LayerNorm: with
  post-LN every block already ends in one.
- §3.4: embeddings multiplied by sqrt(d_model); in the encoder-decoder the source embedding,
  the target embedding and the pre-softmax projection are one matrix (a shared vocabulary).
- §3.5: sinusoidal positions PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...),
  added to the embeddings. Precomputed up to `max_len` positions (the sinusoids themselves
  extend to any length; the table is a cache). `positions: learned` replaces them with a learned
  (max_len, d_model) table, the Table 3 row (E) ablation ("positional embedding instead of
  sinusoids"), initialised N(0, d_model^-0.5) as tensor2tensor's add_positional_embedding.
- §5.4: dropout 0.1 on every sub-layer output before the residual add, and on the sums of
  embeddings and positions. Label smoothing 0.1 is the trainer's (TrainConfig.label_smoothing).
- §5.3: Adam beta = (0.9, 0.98), eps = 1e-9, lr = d_model^-0.5 * min(step^-0.5, step *
  warmup^-1.5). seminal.train's `inverse_sqrt` schedule with linear warmup is this curve
  divided by its peak d_model^-0.5 * warmup^-0.5, so config/models/transformer.yaml sets
  lr to that peak (tests/models/test_transformer.py checks the two agree at every step).

Deviations from the paper, stated where they happen:
- The GLUE-style tasks are classification/regression, not translation, so the task model is
  the encoder alone with a head (`TransformerClassifier`). Its input is one sequence
  `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]` for pairs: that packing is a BERT-ism (Devlin et
  al. 2019), not Vaswani's. No segment embeddings (also BERT's); [SEP] marks the boundary.
- Pooling (not in the paper): `pool="mean"` (default) averages the encoder output over the
  real tokens (the [CLS]/[SEP] markers included, padding excluded); `pool="cls"` takes the
  first position, BERT's choice. Mean is the default because these models are trained from
  scratch on a few thousand examples: BERT's [CLS] vector becomes a sentence summary through
  pretraining (next-sentence prediction); without pretraining, the mean gives every position a
  direct gradient path to the loss instead of relying on attention learning to route the
  evidence to one position. (In a one-seed sweep the two were within noise of each other.)
- Initialisation is not stated in the paper. We follow tensor2tensor's: embeddings
  N(0, d_model^-0.5) (so that after the sqrt(d_model) scale they have unit variance),
  Glorot-uniform weight matrices (as torch.nn.Transformer) and zero biases.
- The encoder-decoder's `greedy_decode` decodes greedily; `start`/`step` expose one decoding
  step to a caller's beam search (seminal.seq2seq: beam 4, length penalty 0.6, as §6.1). The
  paper also averages the last 5 checkpoints; we do not. Its loss is its caller's (seminal.seq2seq).
  `step` decodes incrementally: it runs the decoder on the newest token only, attending to the
  cached keys and values of the earlier positions (exact: the causal mask makes them final).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F

from seminal.benchmark import TaskSpec
from seminal.errors import SeminalError

PAD_ID, BOS_ID, EOS_ID, CLS_ID, SEP_ID = 0, 2, 3, 4, 5  # seminal.tokenize.PAD, BOS, EOS, CLS, SEP
POOLINGS = ("mean", "cls")
POSITIONS = ("sinusoid", "learned")


class MultiHeadAttention(nn.Module):
    """§3.2.2: MultiHead(Q, K, V) = Concat(head_1..head_h) W^O, head_i = Attention(Q W_i^Q, ...).

    Self-attention uses the whole (d, 3d) projection on x; attention over the encoder output
    (the decoder's second sub-layer, §3.2.3) projects queries from x with its first d rows and
    keys/values from the memory with the other 2d: the same parameters either way.
    """

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        self.n_heads, self.d_k = n_heads, d_model // n_heads  # §3.2.2: d_k = d_v = d_model / h
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)  # [W^Q; W^K; W^V], all heads
        self.out = nn.Linear(d_model, d_model, bias=False)  # W^O

    def _heads(self, x: torch.Tensor, n: int) -> torch.Tensor:
        """(B, T, n*d) -> (n, B, h, T, d_k), contiguous, so each of the n slices is too."""
        B, T, _ = x.shape
        return x.view(B, T, n, self.n_heads, self.d_k).permute(2, 0, 3, 1, 4).contiguous()

    def forward(self, x: torch.Tensor, memory: torch.Tensor | None = None,
                mask: torch.Tensor | None = None, causal: bool = False) -> torch.Tensor:
        """x (B, T, d); memory (B, S, d) or None for self-attention; mask (B, 1, 1, S) bool,
        True where a key may be attended to; causal: position t sees keys <= t only (§3.2.3)."""
        B, T, d = x.shape
        if memory is None:
            q, k, v = self._heads(self.qkv(x), 3)  # (B, h, T, d_k) each
        else:
            w = self.qkv.weight  # (3d, d); row slices of a contiguous matrix are contiguous
            q = self._heads(F.linear(x, w[:d]), 1)[0]  # (B, h, T, d_k)
            k, v = self._heads(F.linear(memory, w[d:]), 2)  # (B, h, S, d_k) each
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)  # eq. (1)
        y = y.transpose(1, 2).contiguous().view(B, T, d)  # (B, T, d): heads concatenated
        return self.out(y)


class FeedForward(nn.Module):
    """§3.3, eq. (2): FFN(x) = max(0, x W1 + b1) W2 + b2, applied at each position."""

    def __init__(self, d_model: int, d_ff: int):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x)))


class EncoderBlock(nn.Module):
    """§3.1: x = LayerNorm(x + Dropout(SelfAttention(x))); x = LayerNorm(x + Dropout(FFN(x)))."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float):
        super().__init__()
        self.attn, self.ln1 = MultiHeadAttention(d_model, n_heads), nn.LayerNorm(d_model)
        self.ffn, self.ln2 = FeedForward(d_model, d_ff), nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)  # §5.4 residual dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = self.ln1(x + self.drop(self.attn(x, mask=mask)))  # (B, T, d)
        return self.ln2(x + self.drop(self.ffn(x)))


class DecoderBlock(nn.Module):
    """§3.1: masked self-attention, attention over the encoder output, FFN; each post-LN."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float):
        super().__init__()
        self.self_attn, self.ln1 = MultiHeadAttention(d_model, n_heads), nn.LayerNorm(d_model)
        self.cross_attn, self.ln2 = MultiHeadAttention(d_model, n_heads), nn.LayerNorm(d_model)
        self.ffn, self.ln3 = FeedForward(d_model, d_ff), nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None
                ) -> torch.Tensor:
        # Targets are right-padded, so a real position t never has a pad key at <= t: the
        # causal mask alone keeps real positions off padding (pad positions' outputs are unused).
        x = self.ln1(x + self.drop(self.self_attn(x, causal=True)))  # (B, T, d)
        x = self.ln2(x + self.drop(self.cross_attn(x, memory, mask=memory_mask)))
        return self.ln3(x + self.drop(self.ffn(x)))


def sinusoids(n_positions: int, d_model: int) -> torch.Tensor:
    """§3.5: (n_positions, d_model), PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos."""
    pos = torch.arange(n_positions, dtype=torch.float64)[:, None]  # (P, 1)
    inv = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (d/2,)
    pe = torch.zeros(n_positions, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * inv)
    pe[:, 1::2] = torch.cos(pos * inv)
    return pe.float()


class Embeddings(nn.Module):
    """§3.4 + §3.5 + §5.4: Dropout(sqrt(d_model) * E[ids] + PE[positions]); PE learned if asked."""

    def __init__(self, vocab_size: int, d_model: int, max_len: int, dropout: float,
                 learned_positions: bool = False):
        super().__init__()
        self.d_model, self.max_len = d_model, max_len
        self.tok = nn.Embedding(vocab_size, d_model)
        if learned_positions:  # Table 3 row (E)
            self.pos = nn.Parameter(torch.empty(max_len, d_model))
        else:
            self.register_buffer("pe", sinusoids(max_len, d_model), persistent=False)  # not learned
        self.drop = nn.Dropout(dropout)

    def forward(self, ids: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """(B, T) ids at positions offset .. offset + T - 1 -> (B, T, d)."""
        T = ids.size(1) + offset
        if T > self.max_len:
            raise SeminalError(f"a sequence of {T} tokens is longer than the Transformer's "
                               f"max_len {self.max_len}: raise model_config.max_len or set train.max_len")
        pe = self.pos if hasattr(self, "pos") else self.pe  # (max_len, d)
        return self.drop(self.tok(ids) * math.sqrt(self.d_model) + pe[offset:T])


@dataclass
class TransformerConfig:
    vocab_size: int = 0  # set from the tokenizer
    num_labels: int = 2  # set from the task; 1 = regression
    pair: bool = False  # set from the task: input [CLS] a [SEP] b [SEP]
    n_layers: int = 6  # §3.1: N = 6 (the encoder-decoder has N of each)
    d_model: int = 512  # §3.1, Table 3 base
    n_heads: int = 8  # §3.2.2: h = 8
    d_ff: int = 2048  # §3.3
    dropout: float = 0.1  # §5.4: P_drop = 0.1
    max_len: int = 512  # positions precomputed (not in the paper; §3.5's sinusoids have no limit)
    pool: str = "mean"  # not in the paper: "mean" over real tokens | "cls" (first token, BERT)
    positions: str = "sinusoid"  # §3.5 | "learned" (Table 3 row E: positional embedding)

    def __post_init__(self) -> None:
        # ValueError: the config loader (seminal.experiment.make_config) adds the file name
        if self.pool not in POOLINGS:
            raise ValueError(f"Transformer pool {self.pool!r} is not one of {POOLINGS}")
        if self.positions not in POSITIONS:
            raise ValueError(f"Transformer positions {self.positions!r} is not one of {POSITIONS}")
        if self.d_model % self.n_heads or self.d_model % 2:
            raise ValueError(f"Transformer d_model {self.d_model} must be even and divisible by "
                             f"n_heads {self.n_heads}")
        if min(self.n_layers, self.d_ff, self.max_len) < 1:
            raise ValueError("Transformer n_layers, d_ff and max_len must be >= 1")


def with_specials(s1: torch.Tensor, s2: torch.Tensor | None = None) -> torch.Tensor:
    """Right-padded (B, T1) [, (B, T2)] -> right-padded [CLS] a [SEP] [b [SEP]], (B, T) with T
    the longest packed row: the result does not depend on how far s1 and s2 were padded."""
    B = s1.size(0)
    cls = torch.full((B, 1), CLS_ID, dtype=s1.dtype, device=s1.device)
    sep = torch.full((B, 1), SEP_ID, dtype=s1.dtype, device=s1.device)
    x = torch.cat([cls, s1, sep] + ([s2, sep] if s2 is not None else []), dim=1)
    # move the padding inside the row to its end, keeping the order of the real tokens
    order = (x == PAD_ID).to(torch.int8).argsort(dim=1, stable=True)
    x = x.gather(1, order)
    return x[:, : int((x != PAD_ID).sum(1).max())]


class TransformerClassifier(nn.Module):
    """The Transformer encoder (§3.1) with a linear head on the pooled output (not in the paper)."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        if cfg.vocab_size <= 0 or cfg.num_labels <= 0:
            raise SeminalError("Transformer needs vocab_size and num_labels (set them from the data)")
        self.cfg = cfg
        self.embed = Embeddings(cfg.vocab_size, cfg.d_model, cfg.max_len, cfg.dropout,
                                cfg.positions == "learned")
        self.blocks = nn.ModuleList(EncoderBlock(cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout)
                                    for _ in range(cfg.n_layers))
        self.head = nn.Linear(cfg.d_model, cfg.num_labels)
        init_weights(self, cfg.d_model)

    def forward(self, s1: torch.Tensor, s2: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, num_labels), or scores (B,) when num_labels == 1 (regression)."""
        if self.cfg.pair and s2 is None:
            raise SeminalError("this Transformer was built for sentence pairs; pass s2")
        ids = with_specials(s1, s2 if self.cfg.pair else None)  # (B, T)
        real = ids != PAD_ID  # (B, T)
        mask = real[:, None, None, :]  # (B, 1, 1, T): keys a query may attend to
        x = self.embed(ids)  # (B, T, d)
        for block in self.blocks:
            x = block(x, mask)
        if self.cfg.pool == "cls":
            pooled = x[:, 0]  # (B, d)
        else:
            w = real.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
            pooled = (x * w).sum(1) / w.sum(1)  # (B, d): mean over real tokens
        logits = self.head(pooled)
        return logits.squeeze(1) if self.cfg.num_labels == 1 else logits

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


class TransformerSeq2Seq(nn.Module):
    """The encoder-decoder of §3 (Figure 1) for a shared vocabulary: one embedding matrix for
    source, target and the pre-softmax projection (§3.4). `forward(src, tgt_in)` gives the
    logits of the next token at each target position (tgt_in starts with [BOS])."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        if cfg.vocab_size <= 0:
            raise SeminalError("Transformer needs vocab_size (set it from the data)")
        self.cfg = cfg
        self.embed = Embeddings(cfg.vocab_size, cfg.d_model, cfg.max_len, cfg.dropout,
                                cfg.positions == "learned")  # shared
        self.encoder = nn.ModuleList(EncoderBlock(cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout)
                                     for _ in range(cfg.n_layers))
        self.decoder = nn.ModuleList(DecoderBlock(cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout)
                                     for _ in range(cfg.n_layers))
        init_weights(self, cfg.d_model)

    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """src (B, S) right-padded -> memory (B, S, d) and its key mask (B, 1, 1, S)."""
        mask = (src != PAD_ID)[:, None, None, :]
        x = self.embed(src)
        for block in self.encoder:
            x = block(x, mask)
        return x, mask

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor
               ) -> torch.Tensor:
        """tgt_in (B, T) -> next-token logits (B, T, vocab_size)."""
        x = self.embed(tgt_in)
        for block in self.decoder:
            x = block(x, memory, memory_mask)
        return F.linear(x, self.embed.tok.weight)  # §3.4: pre-softmax projection = embedding

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        memory, mask = self.encode(src)
        return self.decode(tgt_in, memory, mask)

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, max_new_tokens: int) -> torch.Tensor:
        """(B, S) -> (B, 1 + n) ids: [BOS] then the argmax token at each step, [PAD] after [EOS].
        (The paper uses beam search, beam 4, length penalty 0.6.)"""
        self.eval()
        memory, mask = self.encode(src)
        out = torch.full((src.size(0), 1), BOS_ID, dtype=torch.long, device=src.device)
        done = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)
        for _ in range(max_new_tokens):
            nxt = self.decode(out, memory, mask)[:, -1].argmax(-1)  # (B,)
            nxt = nxt.masked_fill(done, PAD_ID)
            out = torch.cat([out, nxt[:, None]], dim=1)
            done |= nxt == EOS_ID
            if done.all():
                break
        return out

    def start(self, src: torch.Tensor) -> dict[str, torch.Tensor]:
        """The decoding state of a source batch, every tensor batch-first (a beam search reorders
        it): the memory's key mask (B, 1, 1, S) and, per decoder layer i, the keys and values of
        the attention over the memory, ck<i> and cv<i> (B, h, S, d_k)."""
        memory, mask = self.encode(src)
        d = self.cfg.d_model
        state = {"mask": mask}
        for i, block in enumerate(self.decoder):
            a = block.cross_attn
            state[f"ck{i}"], state[f"cv{i}"] = a._heads(F.linear(memory, a.qkv.weight[d:]), 2)
        return state

    def step(self, state: dict[str, torch.Tensor], prefix: torch.Tensor
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """prefix (N, t) tokens so far -> logits (N, V) of the next one, and the new state.
        Incremental decoding: only the newest token goes through the decoder; its self-attention
        reads the keys and values k<i>, v<i> (N, h, t-1, d_k) cached from the earlier steps. Equal
        to decode(prefix, ...)[:, -1] (tested), without dropout (decoding is in eval mode)."""
        N, t, d = prefix.size(0), prefix.size(1) - 1, self.cfg.d_model
        x = self.embed(prefix[:, -1:], offset=t)  # (N, 1, d) at position t
        new = dict(state)
        for i, block in enumerate(self.decoder):
            a = block.self_attn
            q, k, v = a._heads(a.qkv(x), 3)  # (N, h, 1, d_k) each
            if t:
                k, v = torch.cat([state[f"k{i}"], k], dim=2), torch.cat([state[f"v{i}"], v], dim=2)
            new[f"k{i}"], new[f"v{i}"] = k, v
            y = F.scaled_dot_product_attention(q, k, v)  # every cached position is <= t: no mask
            x = block.ln1(x + block.drop(a.out(y.transpose(1, 2).reshape(N, 1, d))))
            c = block.cross_attn
            q = c._heads(F.linear(x, c.qkv.weight[:d]), 1)[0]  # (N, h, 1, d_k)
            y = F.scaled_dot_product_attention(q, state[f"ck{i}"], state[f"cv{i}"], attn_mask=state["mask"])
            x = block.ln2(x + block.drop(c.out(y.transpose(1, 2).reshape(N, 1, d))))
            x = block.ln3(x + block.drop(block.ffn(x)))
        return F.linear(x[:, 0], self.embed.tok.weight), new  # §3.4: tied pre-softmax projection

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def forward_flops(self, batch: int, src_len: int, tgt_len: int) -> int:
        """Matmul FLOPs (2 per multiply-add) of `forward` on a (batch, src_len) source and a
        (batch, tgt_len) target, padding included (it is computed); layer norms, softmax, ReLU,
        dropout and the embedding lookup are not counted. With d = d_model, f = d_ff, N layers,
        V vocabulary, B batch, S and T the source and target lengths:

            encoder layer  B S (8 d^2 + 4 d f) + 4 B S^2 d     W^Q,K,V,O; FFN; QK^T and AV (§3.2)
            decoder layer  B T (12 d^2 + 4 d f) + 4 B T^2 d    self (8 d^2) + cross W^Q, W^O (4 d^2)
                           + 4 B S d^2 + 4 B T S d             cross W^K, W^V on the memory; QK^T, AV
            output         2 B T d V                           pre-softmax projection (§3.4)

        Causal self-attention is counted as the full T x T product (the kernel masks, it does not
        skip). Training costs 3x forward (backward ~ 2x forward), seminal.seq2seq.train_flops."""
        c = self.cfg
        d, f, N, V, B, S, T = c.d_model, c.d_ff, c.n_layers, c.vocab_size, batch, src_len, tgt_len
        enc = B * S * (8 * d * d + 4 * d * f) + 4 * B * S * S * d
        dec = B * T * (12 * d * d + 4 * d * f) + 4 * B * T * T * d + 4 * B * S * d * d + 4 * B * T * S * d
        return N * (enc + dec) + 2 * B * T * d * V


def init_weights(model: nn.Module, d_model: int) -> None:
    """tensor2tensor's initialisation (the paper states none): embeddings N(0, d_model^-0.5),
    weight matrices Glorot-uniform, biases zero; LayerNorm keeps gain 1, bias 0."""
    for name, p in model.named_parameters():
        if name.endswith(("tok.weight", "embed.pos")):  # tokens; learned positions (Table 3 E)
            nn.init.normal_(p, mean=0.0, std=d_model ** -0.5)
        elif name.endswith("qkv.weight"):  # W^Q, W^K, W^V are three (d, d) matrices
            for w in p.detach().split(d_model):
                nn.init.xavier_uniform_(w)
        elif p.dim() >= 2:
            nn.init.xavier_uniform_(p)
        elif ".ln" not in name:
            nn.init.zeros_(p)


def build(cfg: TransformerConfig, task: TaskSpec) -> TransformerClassifier:
    """The registry's builder: the task sets the output size and whether inputs are pairs."""
    return TransformerClassifier(replace(cfg, num_labels=task.num_labels, pair=task.is_pair))
