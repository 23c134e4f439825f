"""Devlin et al. (2019), "BERT: Pre-training of Deep Bidirectional Transformers for Language
Understanding", NAACL. Pretraining (masked LM + next-sentence prediction) and fine-tuning.

Read top to bottom: attention -> feed-forward -> encoder block -> embeddings -> encoder ->
config -> pretraining model (MLM + NSP heads) -> pretraining batches -> task config ->
classifier -> builders. Design choices and where they come from:

- §3, "Model Architecture": the encoder of Vaswani et al. (2017) — multi-head self-attention and a
  position-wise feed-forward network, each sub-layer post-layer-norm: LayerNorm(x + Dropout(f(x))).
  BERT-base: L = 12, H = 768, A = 12, feed-forward 4H = 3072 (BertConfig's defaults). The
  feed-forward uses GELU (§3.1 footnote; Hendrycks & Gimpel 2016) instead of ReLU; the exact
  erf form, as in the released code. Every Linear has a bias (released code). Attention via
  F.scaled_dot_product_attention on contiguous (B, h, T, d_k) q, k, v (one (d, 3d) Linear).
- §3.2 / Figure 2: input = token + segment (A/B) + learned position embeddings, then LayerNorm and
  dropout (released code). The input is `[CLS] A [SEP] B [SEP]`, segment 0 up to the first
  [SEP], 1 after it.
- §3.1 Task #1, masked LM: 15% of the token positions are chosen; of those 80% become [MASK],
  10% a random token, 10% stay unchanged; the model predicts the original token with a softmax
  over the vocabulary. The output layer (released code, `get_masked_lm_output`): Linear -> GELU ->
  LayerNorm, then the token embedding matrix (tied) plus a per-token bias. Logits are computed at
  the chosen positions only.
- §3.1 Task #2, NSP: 50% of the time B is the actual next sentence (IsNext), 50% a random
  sentence from the corpus (NotNext); classified from C = the final hidden vector of [CLS]
  passed through the pooler (Linear + tanh on [CLS], released code `pooler`), then a Linear to 2.
  Pretraining loss = mean MLM log-likelihood + mean NSP log-likelihood (Appendix A.2).
- Appendix A.1/A.2: "sentences" are spans of contiguous text; the pair's combined length is at
  most max_seq_len; the released create_pretraining_data.py fills a target length with whole
  sentences, puts a random number of them into A, and (10% of the time, `short_seq_prob`) uses a
  shorter random target. Initialisation: truncated normal, std 0.02 (released code).
- §3.2 / §4.1 fine-tuning: the same packing, the pooled [CLS] vector C -> dropout -> a linear
  classifier (one output for STS-B regression). Every parameter is fine-tuned.

Deviations, stated where they happen:
- The masked positions are exactly round(15% of the sequence's A/B tokens) (at least 1) per
  sequence, drawn without replacement, as the released code does (it counts [CLS]/[SEP] in the
  15% base too; we do not), with no cap `max_predictions_per_seq` (it is 20 of 128 there).
- When the pair is too long, the released code trims one token at a time from the longer of A
  and B, from the front or the back at random; we trim to the same lengths in closed form, but
  always A from the front and B from the back, so an IsNext A still ends where its B starts.
- A, B sentence boundaries: our corpus marks each sentence end with [EOS] (an extra [EOS] = a
  document break); the [EOS] markers are dropped from A and B (BERT concatenates the sentences
  of a segment), so the fine-tuning inputs, which have no [EOS], look the same.
- Sizes and training length are scaled down to the CPU budget (config/pretrain/bert.yaml).
"""

from __future__ import annotations

import weakref
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seminal.benchmark import TaskSpec
from seminal.errors import SeminalError

PAD_ID, EOS_ID, CLS_ID, SEP_ID, MASK_ID = 0, 3, 4, 5, 6  # seminal.tokenize.PAD, EOS, CLS, SEP, MASK
N_SPECIAL = 7  # ids 0..6 are special pieces (seminal.tokenize.SPECIAL_PIECES); never a random token
IGNORE = -100  # mlm_labels at positions that are not predicted (F.cross_entropy's ignore_index)


class SelfAttention(nn.Module):
    """§3 (Vaswani et al. §3.2.2): h heads of d/h, projections with biases (released code)."""

    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads, self.d_k, self.dropout = n_heads, d_model // n_heads, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)  # [W^Q; W^K; W^V], all heads
        self.out = nn.Linear(d_model, d_model)  # W^O

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """x (B, T, d); mask (B, 1, 1, T) bool, True where a key may be attended to."""
        B, T, d = x.shape
        qkv = self.qkv(x).view(B, T, 3, self.n_heads, self.d_k).permute(2, 0, 3, 1, 4).contiguous()
        q, k, v = qkv  # (B, h, T, d_k) each, contiguous
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).contiguous().view(B, T, d))  # heads concatenated


class FeedForward(nn.Module):
    """FFN(x) = GELU(x W1 + b1) W2 + b2 (§3.1: GELU, not ReLU), d_ff = 4 d_model."""

    def __init__(self, d_model: int, d_ff: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class EncoderBlock(nn.Module):
    """Post-LN: x = LN(x + Dropout(Attn(x))); x = LN(x + Dropout(FFN(x)))."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float, attention_dropout: float,
                 eps: float):
        super().__init__()
        self.attn, self.ln1 = SelfAttention(d_model, n_heads, attention_dropout), nn.LayerNorm(d_model, eps=eps)
        self.ffn, self.ln2 = FeedForward(d_model, d_ff), nn.LayerNorm(d_model, eps=eps)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = self.ln1(x + self.drop(self.attn(x, mask)))  # (B, T, d)
        return self.ln2(x + self.drop(self.ffn(x)))


class Embeddings(nn.Module):
    """§3.2, Figure 2: E_token + E_segment + E_position (learned), then LayerNorm and dropout."""

    def __init__(self, vocab_size: int, d_model: int, max_position: int, type_vocab_size: int, dropout: float,
                 eps: float):
        super().__init__()
        self.max_position = max_position
        self.tok = nn.Embedding(vocab_size, d_model)
        self.seg = nn.Embedding(type_vocab_size, d_model)
        self.pos = nn.Embedding(max_position, d_model)
        self.ln, self.drop = nn.LayerNorm(d_model, eps=eps), nn.Dropout(dropout)

    def forward(self, ids: torch.Tensor, segments: torch.Tensor) -> torch.Tensor:
        """(B, T) ids and segment ids -> (B, T, d)."""
        T = ids.size(1)
        if T > self.max_position:
            raise SeminalError(f"a packed input of {T} tokens is longer than BERT's max_position "
                               f"{self.max_position}: set train.max_len to shorten the sentences")
        x = self.tok(ids) + self.seg(segments) + self.pos.weight[:T]  # (B, T, d)
        return self.drop(self.ln(x))


class Encoder(nn.Module):
    """Embeddings, then L post-LN blocks; padding (id 0) is never attended to."""

    def __init__(self, c: BertConfig):
        super().__init__()
        self.embed = Embeddings(c.vocab_size, c.d_model, c.max_position, c.type_vocab_size, c.dropout,
                                c.layer_norm_eps)
        self.blocks = nn.ModuleList(EncoderBlock(c.d_model, c.n_heads, c.d_ff, c.dropout, c.attention_dropout,
                                                 c.layer_norm_eps) for _ in range(c.n_layers))

    def forward(self, ids: torch.Tensor, segments: torch.Tensor) -> torch.Tensor:
        mask = (ids != PAD_ID)[:, None, None, :]  # (B, 1, 1, T)
        x = self.embed(ids, segments)
        for block in self.blocks:
            x = block(x, mask)
        return x  # (B, T, d)


class Pooler(nn.Module):
    """Released code: C = tanh(W h_[CLS] + b), the input of NSP and of every fine-tuned classifier."""

    def __init__(self, d_model: int):
        super().__init__()
        self.dense = nn.Linear(d_model, d_model)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(h[:, 0]))  # (B, d)


# the encoder's sizes: a task model built on a checkpoint must agree with it on all of these
SIZE_FIELDS = ("vocab_size", "n_layers", "d_model", "n_heads", "d_ff", "max_position", "type_vocab_size")


@dataclass
class BertConfig:
    vocab_size: int = 0  # set from the tokenizer (paper: WordPiece 30,000, §3)
    n_layers: int = 12  # §3 BERT-base L = 12
    d_model: int = 768  # §3 H = 768
    n_heads: int = 12  # §3 A = 12
    d_ff: int = 3072  # §3 4H
    dropout: float = 0.1  # A.2: dropout 0.1 on all layers
    attention_dropout: float = 0.1  # released code: attention_probs_dropout_prob 0.1
    max_position: int = 512  # released code: max_position_embeddings 512
    type_vocab_size: int = 2  # §3.2: segments A and B
    layer_norm_eps: float = 1e-12  # released code
    init_std: float = 0.02  # released code: initializer_range (truncated normal)
    # pretraining data (Appendix A.1, A.2, released create_pretraining_data.py)
    max_seq_len: int = 512  # A.2: 128 for 90% of the steps, then 512
    short_seq_prob: float = 0.1  # released code: 10% of pairs get a random shorter target length
    nsp_prob: float = 0.5  # §3.1: B is the actual next sentence 50% of the time
    mask_prob: float = 0.15  # §3.1: 15% of the tokens are predicted
    mask_token_prob: float = 0.8  # §3.1: 80% of them replaced by [MASK]
    random_token_prob: float = 0.1  # §3.1: 10% by a random token (the other 10% unchanged)

    def __post_init__(self) -> None:
        # ValueError: the config loader (seminal.experiment.make_config) adds the file name
        if self.d_model % self.n_heads:
            raise ValueError(f"BERT d_model {self.d_model} must be divisible by n_heads {self.n_heads}")
        if min(self.n_layers, self.d_ff, self.max_position) < 1 or self.type_vocab_size < 2:
            raise ValueError("BERT n_layers, d_ff, max_position must be >= 1 and type_vocab_size >= 2")
        if not 5 <= self.max_seq_len <= self.max_position:
            raise ValueError(f"BERT max_seq_len {self.max_seq_len} must be in [5, max_position "
                             f"{self.max_position}]")
        probs = (self.short_seq_prob, self.nsp_prob, self.mask_prob, self.mask_token_prob, self.random_token_prob)
        if not all(0.0 <= p <= 1.0 for p in probs) or self.mask_token_prob + self.random_token_prob > 1.0:
            raise ValueError("BERT probabilities must be in [0, 1] and mask_token_prob + random_token_prob <= 1")


def init_weights(module: nn.Module, std: float) -> None:
    """Released code: every weight matrix and embedding ~ truncated N(0, std) (cut at 2 std),
    biases 0, LayerNorm gain 1 and bias 0."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class MaskedLMHead(nn.Module):
    """Released code `get_masked_lm_output`: Linear -> GELU -> LayerNorm -> tied embeddings + bias."""

    def __init__(self, c: BertConfig, embedding: nn.Embedding):
        super().__init__()
        self.dense, self.ln = nn.Linear(c.d_model, c.d_model), nn.LayerNorm(c.d_model, eps=c.layer_norm_eps)
        self.embedding = [embedding]  # tied, not registered twice (a list hides it from nn.Module)
        self.bias = nn.Parameter(torch.zeros(c.vocab_size))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(M, d) hidden states at the masked positions -> (M, vocab_size) logits."""
        return F.linear(self.ln(F.gelu(self.dense(h))), self.embedding[0].weight, self.bias)


class BertForPretraining(nn.Module):
    """The encoder with the MLM and NSP heads of §3.1. `pretrain_loss(batch)` -> (loss, stats)."""

    def __init__(self, cfg: BertConfig):
        super().__init__()
        if cfg.vocab_size <= N_SPECIAL:
            raise SeminalError(f"BERT needs vocab_size > {N_SPECIAL} (set it from the tokenizer)")
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.pooler = Pooler(cfg.d_model)
        self.mlm = MaskedLMHead(cfg, self.encoder.embed.tok)
        self.nsp = nn.Linear(cfg.d_model, 2)  # 0 = NotNext, 1 = IsNext
        init_weights(self, cfg.init_std)

    def forward(self, ids: torch.Tensor, segments: torch.Tensor, mlm_labels: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """MLM logits (M, V) at the M positions with a label, NSP logits (B, 2)."""
        h = self.encoder(ids, segments)  # (B, T, d)
        chosen = mlm_labels != IGNORE  # (B, T)
        return self.mlm(h[chosen]), self.nsp(self.pooler(h))  # h[chosen]: (M, d), contiguous

    def pretrain_loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        """A.2: loss = mean MLM NLL + mean NSP NLL. stats: lm_loss (MLM mean NLL per masked token,
        nats), mlm_acc, nsp_loss, nsp_acc."""
        labels, is_next = batch["mlm_labels"], batch["is_next"]
        mlm_logits, nsp_logits = self(batch["input_ids"], batch["segment_ids"], labels)
        targets = labels[labels != IGNORE]  # (M,)
        if "mlm_count" in batch:  # one process's rows of a data-parallel batch (pretrain_shard)
            lm_loss = F.cross_entropy(mlm_logits, targets, reduction="sum") / batch["mlm_count"]
        else:
            lm_loss = F.cross_entropy(mlm_logits, targets)
        nsp_loss = F.cross_entropy(nsp_logits, is_next)
        with torch.no_grad():
            stats = {"lm_loss": lm_loss.item(), "mlm_acc": (mlm_logits.argmax(-1) == targets).float().mean().item(),
                     "nsp_loss": nsp_loss.item(), "nsp_acc": (nsp_logits.argmax(-1) == is_next).float().mean().item()}
        return lm_loss + nsp_loss, stats

    @staticmethod
    def pretrain_shard(batch: dict[str, torch.Tensor], rank: int, world: int) -> dict[str, torch.Tensor]:
        """Data-parallel training (seminal.pretrain): process `rank`'s rows of the global batch.
        The MLM loss is a mean over the global batch's masked tokens, whose number differs between
        rows, so each process divides its sum by (global count / world): DDP's average of the
        processes' gradients is then the gradient of the global mean, as in one process."""
        n = batch["input_ids"].size(0) // world
        part = {k: v[rank * n:(rank + 1) * n] for k, v in batch.items()}
        part["mlm_count"] = (batch["mlm_labels"] != IGNORE).sum() / world  # 0-dim float
        return part

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


def build_pretrain(cfg: BertConfig) -> BertForPretraining:
    return BertForPretraining(cfg)


# ---------------------------------------------------------------------------------------------
# pretraining batches: [CLS] A [SEP] B [SEP] pairs with NSP labels, then MLM masking


@dataclass(frozen=True)
class _Corpus:
    """The flat id stream as sentences: `text` = the stream without its [EOS] markers, so the
    sentences of one document are contiguous; sentence i = text[start[i]:end[i]]."""

    text: np.ndarray  # (N,) ids, [EOS] removed
    start: np.ndarray  # (S,) int64, non-empty sentences only
    end: np.ndarray  # (S,)
    doc: np.ndarray  # (S,) document number
    doc_end: np.ndarray  # (S,) end (in text) of the sentence's document
    doc_start: np.ndarray  # (S,)
    boundaries: np.ndarray  # sentences that have a predecessor in their document: where an IsNext B may start
    max_id: int


_CORPORA: dict[int, tuple[weakref.ref, _Corpus]] = {}  # id(ids) -> (weak ref to ids, its index)


def _corpus(ids: np.ndarray) -> _Corpus:
    """Index the stream once per array object (the pretraining loop passes the same one each step)."""
    hit = _CORPORA.get(id(ids))
    if hit is not None and hit[0]() is ids:
        return hit[1]
    a = np.asarray(ids)
    eos = np.flatnonzero(a == EOS_ID)  # (S0,) each ends one sentence; an empty one = document break
    start = np.concatenate([[0], eos[:-1] + 1]).astype(np.int64)
    end = eos.astype(np.int64)
    n_before = np.arange(len(eos), dtype=np.int64)  # [EOS] markers before each sentence's start
    start, end = start - n_before, end - n_before  # coordinates in the stream without [EOS]
    empty = start == end
    doc = np.cumsum(empty)[~empty]
    start, end = start[~empty], end[~empty]
    if len(start) == 0 or doc[-1] == doc[0]:
        raise SeminalError(f"the pretraining corpus ({len(a)} ids) needs at least two documents "
                           "(sentences end with [EOS]; [EOS] [EOS] ends a document)")
    first = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]])  # first sentence of each document
    last = np.r_[first[1:], len(doc)] - 1
    per_doc = np.diff(np.r_[first, len(doc)])
    text = a[: eos[-1] + 1][a[: eos[-1] + 1] != EOS_ID]
    c = _Corpus(text=text, start=start, end=end, doc=doc, doc_end=np.repeat(end[last], per_doc),
                doc_start=np.repeat(start[first], per_doc),
                boundaries=np.flatnonzero(np.r_[False, doc[1:] == doc[:-1]]), max_id=int(text.max()))
    if len(c.boundaries) == 0:
        raise SeminalError("the pretraining corpus has no document of two or more sentences (needed for NSP)")
    try:
        ref = weakref.ref(ids)
    except TypeError:  # not weak-referenceable (e.g. a list): index every time
        return c
    for key in [k for k, (r, _) in _CORPORA.items() if r() is None]:  # arrays that are gone
        del _CORPORA[key]
    if len(_CORPORA) >= 4:
        _CORPORA.clear()
    _CORPORA[id(ids)] = (ref, c)  # the training and the held-out stream stay indexed
    return c


def make_pretrain_batch(ids: np.ndarray, cfg: BertConfig, batch_size: int, rng: np.random.Generator
                        ) -> dict[str, torch.Tensor]:
    """A batch of [CLS] A [SEP] B [SEP] pairs (A.1), masked for the MLM (§3.1). Deterministic in rng.

    Returns input_ids, segment_ids, mlm_labels (B, T) (IGNORE where not predicted) and is_next (B,)
    (1 = B follows A in the document); T = the longest pair, at most cfg.max_seq_len.
    """
    c = _corpus(ids)
    if c.max_id >= cfg.vocab_size:
        raise SeminalError(f"the corpus holds id {c.max_id}, outside BERT's vocab_size {cfg.vocab_size}")
    B, target = batch_size, cfg.max_seq_len - 3  # room for [CLS], [SEP], [SEP]
    # target length: max_seq_len - 3, or (short_seq_prob) uniform in [2, target] (released code)
    tgt = np.where(rng.random(B) < cfg.short_seq_prob, rng.integers(2, target + 1, B), target)
    # B's first sentence j; A = whole sentences before it in the same document, within a random budget
    j = c.boundaries[rng.integers(len(c.boundaries), size=B)]
    cut = c.start[j]  # A ends, and an IsNext B starts, here (in text coordinates)
    budget_a = rng.integers(1, np.maximum(tgt, 2), B)  # [1, tgt - 1]
    k = np.searchsorted(c.start, np.maximum(c.doc_start[j], cut - budget_a), side="left")
    a_start = c.start[np.minimum(k, j - 1)]  # at least one whole sentence
    # NSP (§3.1): 50% the actual next text, 50% a random sentence of another document onwards
    is_next = rng.random(B) < cfg.nsp_prob
    r = rng.integers(len(c.start), size=B)
    for _ in range(100):
        same = c.doc[r] == c.doc[j]
        if not same.any():
            break
        r[same] = rng.integers(len(c.start), size=int(same.sum()))
    else:  # pragma: no cover - only with a corpus that is nearly one document
        raise SeminalError("cannot draw a random sentence from another document: corpus too uniform")
    nb = np.where(is_next, j, r)
    b_start = c.start[nb]
    la, lb = cut - a_start, np.minimum(c.doc_end[nb] - b_start, tgt)
    # released code's truncate_seq_pair: trim the longer until la + lb <= tgt (ties trim B)
    over = la + lb > tgt
    la2 = np.where(over, np.minimum(la, np.maximum(tgt - lb, (tgt + 1) // 2)), la)
    lb = np.where(over, np.minimum(lb, tgt - la2), lb)
    a_start, la = cut - la2, la2  # A trimmed from the front: it still ends at `cut`

    # pack: [CLS] A [SEP] B [SEP] [PAD]... on a (B, T) grid
    T = int((la + lb).max()) + 3
    t = np.arange(T)[None, :]  # (1, T)
    la_, lb_ = la[:, None], lb[:, None]
    in_a = (t >= 1) & (t <= la_)
    in_b = (t >= la_ + 2) & (t < la_ + 2 + lb_)
    src = np.where(in_a, a_start[:, None] + t - 1, b_start[:, None] + t - la_ - 2)
    text = c.text[np.clip(src, 0, len(c.text) - 1)].astype(np.int64)
    x = np.full((B, T), PAD_ID, dtype=np.int64)
    x[:, 0] = CLS_ID
    x[(t == la_ + 1) | (t == la_ + lb_ + 2)] = SEP_ID
    cand = in_a | in_b  # maskable: the text tokens, never [CLS]/[SEP]/[PAD]
    x[cand] = text[cand]
    segments = (((t >= la_ + 2) & (t <= la_ + lb_ + 2)) * 1).astype(np.int64)

    # MLM (§3.1): exactly round(mask_prob * n) of each sequence's text tokens, uniformly
    n_mask = np.maximum(1, np.rint(cfg.mask_prob * cand.sum(1)).astype(np.int64))
    keys = np.where(cand, rng.random((B, T)), np.inf)
    rank = np.argsort(np.argsort(keys, axis=1, kind="stable"), axis=1, kind="stable")
    chosen = rank < n_mask[:, None]
    labels = np.where(chosen, x, IGNORE)
    u = rng.random((B, T))
    to_mask = chosen & (u < cfg.mask_token_prob)
    to_rand = chosen & (u >= cfg.mask_token_prob) & (u < cfg.mask_token_prob + cfg.random_token_prob)
    random_tokens = rng.integers(N_SPECIAL, cfg.vocab_size, size=(B, T))
    x = np.where(to_mask, MASK_ID, np.where(to_rand, random_tokens, x))
    return {"input_ids": torch.from_numpy(x), "segment_ids": torch.from_numpy(segments),
            "mlm_labels": torch.from_numpy(labels), "is_next": torch.from_numpy(is_next.astype(np.int64))}


# ---------------------------------------------------------------------------------------------
# fine-tuning (§4.1): the pretrained encoder + pooler, dropout, one linear layer


@dataclass
class BertTaskConfig:
    vocab_size: int = 0  # set from the tokenizer
    num_labels: int = 2  # set from the task; 1 = regression (STS-B)
    pair: bool = False  # set from the task: input [CLS] a [SEP] b [SEP]
    checkpoint: str | None = None  # pretrained model.pt (set by the workflow); None = random init (the
    #                                comparison: the same encoder without pretraining)
    # the encoder's sizes: must equal the checkpoint's (checked); defaults = BERT-base (§3)
    n_layers: int = 12
    d_model: int = 768
    n_heads: int = 12
    d_ff: int = 3072
    max_position: int = 512
    type_vocab_size: int = 2
    dropout: float = 0.1  # A.3: dropout 0.1 kept in fine-tuning (encoder layers)
    attention_dropout: float = 0.1  # released code
    classifier_dropout: float = 0.1  # released run_classifier.py: dropout 0.1 before the output layer
    init_std: float = 0.02  # released code (the classifier layer; the encoder too when from scratch)

    def __post_init__(self) -> None:
        if self.d_model % self.n_heads:
            raise ValueError(f"BERT d_model {self.d_model} must be divisible by n_heads {self.n_heads}")

    def encoder_config(self) -> BertConfig:
        names = {f.name for f in fields(BertConfig)}
        values = {k: v for k, v in asdict(self).items() if k in names}
        return BertConfig(**values, max_seq_len=min(BertConfig.max_seq_len, self.max_position))


def pack_pair(s1: torch.Tensor, s2: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (B, T1) [, (B, T2)] -> ids and segment ids (B, T) of the right-padded
    `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]` (segment 1 for b and its [SEP]); T = the longest
    packed row, so the result does not depend on how far s1 and s2 were padded."""
    Bn = s1.size(0)
    cls = torch.full((Bn, 1), CLS_ID, dtype=s1.dtype, device=s1.device)
    sep = torch.full((Bn, 1), SEP_ID, dtype=s1.dtype, device=s1.device)
    parts = [cls, s1, sep] + ([s2, sep] if s2 is not None else [])
    x = torch.cat(parts, dim=1)
    seg = torch.cat([torch.zeros_like(p) if i < 3 else torch.ones_like(p) for i, p in enumerate(parts)], dim=1)
    order = (x == PAD_ID).to(torch.int8).argsort(dim=1, stable=True)  # padding to the end, order kept
    x, seg = x.gather(1, order), seg.gather(1, order)
    T = int((x != PAD_ID).sum(1).max())
    seg = seg.masked_fill(x == PAD_ID, 0)
    return x[:, :T].contiguous(), seg[:, :T].contiguous()


class BertClassifier(nn.Module):
    """§4.1: C = pooled [CLS] -> dropout -> Linear(d, num_labels); all weights fine-tuned."""

    def __init__(self, cfg: BertTaskConfig, encoder_cfg: BertConfig):
        super().__init__()
        if cfg.vocab_size <= 0 or cfg.num_labels <= 0:
            raise SeminalError("BERT needs vocab_size and num_labels (set them from the data)")
        self.cfg = cfg
        self.encoder = Encoder(encoder_cfg)
        self.pooler = Pooler(encoder_cfg.d_model)
        self.drop = nn.Dropout(cfg.classifier_dropout)
        self.head = nn.Linear(encoder_cfg.d_model, cfg.num_labels)
        init_weights(self, cfg.init_std)

    def forward(self, s1: torch.Tensor, s2: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, num_labels), or scores (B,) when num_labels == 1 (regression)."""
        if self.cfg.pair and s2 is None:
            raise SeminalError("this BERT classifier was built for sentence pairs; pass s2")
        ids, segments = pack_pair(s1, s2 if self.cfg.pair else None)  # (B, T) each
        logits = self.head(self.drop(self.pooler(self.encoder(ids, segments))))
        return logits.squeeze(1) if self.cfg.num_labels == 1 else logits

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


def _read_checkpoint(path: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    from seminal.pretrain import load_checkpoint

    return load_checkpoint(path, expect_model="bert")


def build(cfg: BertTaskConfig, task: TaskSpec) -> BertClassifier:
    """The registry's builder. With `checkpoint`, the encoder and pooler are the pretrained ones
    (the task config's sizes must match the checkpoint's); without, the same encoder from random
    initialisation. The classifier layer is always new."""
    cfg = replace(cfg, num_labels=task.num_labels, pair=task.is_pair)
    if cfg.checkpoint is None:
        return BertClassifier(cfg, cfg.encoder_config())
    saved, state = _read_checkpoint(cfg.checkpoint)
    mine = asdict(cfg)
    diff = [f"{k}: task {mine[k]} vs checkpoint {saved.get(k)}" for k in SIZE_FIELDS if saved.get(k) != mine[k]]
    if diff:
        raise SeminalError("BERT task config does not match the pretrained encoder (" + "; ".join(diff) + ")",
                           cfg.checkpoint)
    enc = BertConfig(**{k: v for k, v in saved.items() if k in {f.name for f in fields(BertConfig)}})
    enc = replace(enc, dropout=cfg.dropout, attention_dropout=cfg.attention_dropout)  # fine-tuning's own
    model = BertClassifier(cfg, enc)
    for part in ("encoder", "pooler"):
        sub = {k[len(part) + 1:]: v for k, v in state.items() if k.startswith(part + ".")}
        getattr(model, part).load_state_dict(sub, strict=True)
    return model
