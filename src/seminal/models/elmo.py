"""Peters et al. (2018), "Deep contextualized word representations" (ELMo), NAACL.

A bidirectional language model (biLM) pretrained on the corpus, then frozen; a task model reads a
learned mixture of its layers. Read top to bottom: characters -> token encoder -> biLM -> config
-> pretraining batches -> scalar mix -> ELMo features -> task config -> builder.

The biLM (§3.1, §3.4; sizes and details from the released bilm-tf code and its options file):

    token encoder  x_k = Proj(Highway^2(max-over-time CNN(char embeddings of token k)))     §3.4
    forward LM     h^LM_{k,j}, j = 1..L, reads t_1..t_k and predicts t_{k+1}                §3.1
    backward LM    reads t_N..t_k and predicts t_{k-1}                                        §3.1
    loss           mean of the forward and backward NLL, both LMs sharing the token
                   encoder (Θ_x) and the softmax (Θ_s); their LSTMs are separate              §3.1 eq. (1)

- Characters: sentencepiece pieces, not words, are the tokens, so the char CNN reads the
  characters of each piece: UTF-8 bytes, the word-start meta symbol '▁' read as a space, between
  begin- and end-of-word markers, padded to `max_chars` (bilm-tf: 50; longer pieces truncated).
  Special pieces ([PAD] [UNK] [BOS] [EOS] [CLS] [SEP] [MASK]) get one reserved character each
  (bilm-tf does the same for <S> and </S>). The (vocab_size, max_chars) table is a buffer of the
  model, built from the sentencepiece model named by `ELMoConfig.spm`, so a checkpoint is
  self-contained: the task side never needs the .model file.
- The token encoder is a function of the token id alone, so it is computed once per distinct id
  in the batch (`torch.unique`) and gathered: exact, and cheaper than running the CNN per position.
- Char CNN: widths 1..7 with 32/32/64/128/256/512/1024 maps (2048 in all), ReLU (bilm-tf's
  `activation: relu`), max over the character positions; 2 highway layers (Srivastava et al.
  2015; carry-gate bias -2 as in bilm-tf); a linear projection to 512.
- LSTMs: 2 layers of 4096 cells with 512-d projections (nn.LSTM(proj_size=...), the LSTMP of
  Sak et al. 2014), a residual connection from the first layer's output to the second's
  (bilm-tf `use_skip_connections`); dropout 0.1 on each layer's input and on the top output
  (bilm-tf). Deviations: no cell/projection clipping (bilm-tf clips both at 3; nn.LSTM cannot);
  a full softmax over the sentencepiece vocabulary (bilm-tf: sampled softmax with 8192
  negatives over a 793k-word vocabulary); states are not carried from batch to batch (bilm-tf
  carries them over the stream): each batch is a set of independent windows of `unroll` tokens.

Task use (§3.2, §3.3), eq. (1)-(2):

    ELMo_k = γ · Σ_{j=0..L} softmax(s)_j · h^LM_{k,j},   h_{k,0} = [x_k; x_k],  h_{k,j} = [→h_{k,j}; ←h_{k,j}]

γ and s are learned per task, the biLM frozen (requires_grad False, always in eval mode, hence
dropout-free). ELMo_k is concatenated to the token vector at the input of the task model, here
the GLUE paper's BiLSTM (seminal.models.lstm, `extra_dim` / `features`), the same model and sizes
as the `bilstm` row, so ELMo's gain is measured against it (GLUE paper Table 4 does the same).
`top_only` is the Table 2 ablation: only the top layer (still scaled by γ).
Each sentence is read as [EOS] t_1..t_n [EOS]: in the pretraining stream every sentence follows
an EOS and ends with one, which plays the role of bilm-tf's <S> and </S> (also dropped from the
output). The backward LM reads each sentence's real tokens reversed (`reverse_real`), so a
sentence's features do not depend on how far its batch is padded.
Deviations: no layer normalisation of the biLM layers and no λ||s||² penalty (§3.2 / §5.2: both
optional in the paper); ELMo only at the input, not also at the output of the task RNN (§3.3's
option).

Cost: the frozen biLM's states are a pure function of a sentence's ids, so `ELMoFeatures`
caches them per sentence (keyed by the id bytes, in memory, layers 1..L; layer 0 is a table
lookup). The cache belongs to the biLM's weights (a fingerprint of them), not to one model, so
the seeds of a job, each a fresh task model over the same checkpoint, share it: each distinct
sentence is run through the biLM once per process instead of once per epoch and seed. Tested
equal to the uncached path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seminal.benchmark import TaskSpec
from seminal.errors import SeminalError
from seminal.models.lstm import LSTMConfig, reverse_real
from seminal.models.lstm import build as build_bilstm
from seminal.tokenize import EOS, PAD, SPECIAL_PIECES

# ---------------------------------------------------------------------------------------------
# characters

CHAR_PAD = 0  # padding after the end-of-word marker (a zero vector)
BYTE0 = 1  # UTF-8 byte b -> BYTE0 + b
BOW, EOW = 257, 258  # begin- and end-of-word markers
SPECIAL0 = 259  # special piece k (SPECIAL_PIECES[k]) -> one reserved character SPECIAL0 + k
N_CHARS = SPECIAL0 + len(SPECIAL_PIECES)  # 266 character codes
WORD_START = "\u2581"  # sentencepiece's '▁'


def char_ids(piece: str, max_chars: int, special: int | None = None) -> list[int]:
    """One piece -> max_chars character codes: BOW, chars (or the special's one code), EOW, padding."""
    if special is not None:
        body = [SPECIAL0 + special]
    else:
        body = [BYTE0 + b for b in piece.replace(WORD_START, " ").encode("utf-8")][:max_chars - 2]
    row = [BOW, *body, EOW]
    return row + [CHAR_PAD] * (max_chars - len(row))


def char_table(pieces: list[str], max_chars: int) -> torch.Tensor:
    """(vocab_size, max_chars) LongTensor: row i = the characters of piece i."""
    rows = [char_ids(p, max_chars, i if i < len(SPECIAL_PIECES) and p == SPECIAL_PIECES[i] else None)
            for i, p in enumerate(pieces)]
    return torch.tensor(rows, dtype=torch.long)


def spm_pieces(spm: str | Path) -> list[str]:
    from seminal.tokenize import load_tokenizer

    sp = load_tokenizer(Path(spm))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


# ---------------------------------------------------------------------------------------------
# the token encoder: characters -> CNN -> highway -> projection (§3.4)


class Highway(nn.Module):
    """y = g * relu(W_h x) + (1 - g) * x, g = sigmoid(W_g x) (Srivastava et al. 2015)."""

    def __init__(self, dim: int):
        super().__init__()
        self.linear = nn.Linear(dim, 2 * dim)  # [W_h; W_g]
        with torch.no_grad():
            self.linear.bias[dim:] = -2.0  # bilm-tf: carry-gate bias -2, the layer starts near identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, g = self.linear(x).chunk(2, dim=-1)
        g = torch.sigmoid(g)
        return g * F.relu(h) + (1.0 - g) * x


class CharCNN(nn.Module):
    """Token ids -> token vectors (…, proj_dim), through the characters of each piece."""

    def __init__(self, chars: torch.Tensor, char_dim: int, filters: tuple[tuple[int, int], ...],
                 n_highway: int, proj_dim: int):
        super().__init__()
        self.register_buffer("chars", chars)  # (V, C): part of the state dict
        self.char_embed = nn.Embedding(N_CHARS, char_dim, padding_idx=CHAR_PAD)
        nn.init.uniform_(self.char_embed.weight, -1.0, 1.0)  # bilm-tf
        with torch.no_grad():
            self.char_embed.weight[CHAR_PAD] = 0.0
        self.convs = nn.ModuleList(nn.Conv1d(char_dim, n, w) for w, n in filters)
        n_filters = sum(n for _, n in filters)
        self.highways = nn.ModuleList(Highway(n_filters) for _ in range(n_highway))
        self.proj = nn.Linear(n_filters, proj_dim)

    def encode_pieces(self, pieces: torch.Tensor) -> torch.Tensor:
        """(N,) ids -> (N, proj_dim)."""
        c = self.char_embed(self.chars[pieces]).transpose(1, 2)  # (N, char_dim, C)
        # max over time, then ReLU (= ReLU then max: monotone)
        x = torch.cat([conv(c).amax(dim=2) for conv in self.convs], dim=1).relu()  # (N, n_filters)
        for hw in self.highways:
            x = hw(x)
        return self.proj(x)  # (N, P)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """(…) ids -> (…, proj_dim); the CNN runs once per distinct id."""
        uniq, inverse = torch.unique(ids, return_inverse=True)
        return self.encode_pieces(uniq)[inverse]


# ---------------------------------------------------------------------------------------------
# the biLM (§3.1)


class BiLM(nn.Module):
    def __init__(self, cfg: ELMoConfig, chars: torch.Tensor):
        super().__init__()
        if cfg.vocab_size <= 0 or chars.shape != (cfg.vocab_size, cfg.max_chars):
            raise SeminalError(f"ELMo needs vocab_size (got {cfg.vocab_size}) and a (vocab_size, "
                               f"max_chars) char table (got {tuple(chars.shape)})")
        self.cfg = cfg
        P, H = cfg.proj_dim, cfg.hidden_dim
        self.tokens = CharCNN(chars, cfg.char_dim, tuple(map(tuple, cfg.filters)), cfg.n_highway, P)  # Θ_x
        self.fwd = nn.ModuleList(nn.LSTM(P, H, proj_size=P, batch_first=True) for _ in range(cfg.num_layers))
        self.bwd = nn.ModuleList(nn.LSTM(P, H, proj_size=P, batch_first=True) for _ in range(cfg.num_layers))
        self.softmax = nn.Linear(P, cfg.vocab_size)  # Θ_s, shared by both directions
        self.dropout = nn.Dropout(cfg.dropout)

    def run(self, lstms: nn.ModuleList, x: torch.Tensor) -> list[torch.Tensor]:
        """One direction's stack over x (B, T, P) in its reading order -> L states (B, T, P)."""
        out = []
        for i, lstm in enumerate(lstms):
            h = lstm(self.dropout(x))[0]
            if i > 0 and self.cfg.residual:
                h = h + x  # residual connection between layers (bilm-tf use_skip_connections)
            out.append(h)
            x = h
        return out

    def pretrain_loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        """batch["tokens"] (B, T+1): the forward LM predicts t_{k+1}, the backward LM t_{k-1}."""
        tokens = batch["tokens"]
        x = self.tokens(tokens)  # (B, T+1, P)
        fwd = self.run(self.fwd, x[:, :-1].contiguous())[-1]  # reads t_0..t_{T-1}
        bwd = self.run(self.bwd, x[:, 1:].flip(1))[-1]  # reads t_T..t_1
        V = self.cfg.vocab_size
        fwd_loss = F.cross_entropy(self.softmax(self.dropout(fwd)).view(-1, V), tokens[:, 1:].reshape(-1))
        bwd_loss = F.cross_entropy(self.softmax(self.dropout(bwd)).view(-1, V),
                                   tokens[:, :-1].flip(1).reshape(-1))
        loss = 0.5 * (fwd_loss + bwd_loss)  # eq. (1), per token
        return loss, {"lm_loss": loss.item(), "fwd_loss": fwd_loss.item(), "bwd_loss": bwd_loss.item()}

    def states(self, ids: torch.Tensor, layers: str = "all") -> torch.Tensor:
        """Right-padded ids (B, T) -> (L+1, B, T, 2P): [x; x], then [fwd_j; bwd_j] per layer j.

        layers="lstm" returns the L LSTM layers only (L, B, T, 2P). Each sentence is read as
        [EOS] t_1..t_n [EOS]; positions past n (padding) are zeros."""
        T = ids.size(1)
        n = (ids != PAD).sum(dim=1)  # (B,)
        ext = F.pad(ids, (1, 1), value=PAD)  # (B, T+2)
        ext[:, 0] = EOS
        ext.scatter_(1, (n + 1)[:, None], EOS)
        x = self.tokens(ext)  # (B, T+2, P)
        fwd = self.run(self.fwd, x)
        bwd = [reverse_real(h, n + 2) for h in self.run(self.bwd, reverse_real(x, n + 2))]
        out = [torch.cat([f, b], dim=-1)[:, 1:T + 1] for f, b in zip(fwd, bwd)]  # L x (B, T, 2P)
        if layers == "all":
            x0 = x[:, 1:T + 1]
            out.insert(0, torch.cat([x0, x0], dim=-1))
        real = torch.arange(T, device=ids.device)[None, :] < n[:, None]  # (B, T)
        return torch.stack(out) * real[None, :, :, None]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


# ---------------------------------------------------------------------------------------------
# config and pretraining


@dataclass
class ELMoConfig:
    vocab_size: int = 0  # set from the tokenizer
    spm: str = ""  # path of the sentencepiece model; set by the pipeline (the char table is built from it)
    max_chars: int = 50  # bilm-tf max_characters_per_token 50 (with the two word markers)
    char_dim: int = 16  # §3.4 / bilm-tf: 16-d character embeddings
    filters: tuple[tuple[int, int], ...] = (  # §3.4 / bilm-tf: (width, maps), 2048 maps in all
        (1, 32), (2, 32), (3, 64), (4, 128), (5, 256), (6, 512), (7, 1024))
    n_highway: int = 2  # §3.4: two highway layers
    proj_dim: int = 512  # §3.4: projection to 512, and the LSTMs' 512-d projections
    hidden_dim: int = 4096  # §3.4: 4096 cells per layer
    num_layers: int = 2  # §3.4: L = 2 biLSTM layers
    residual: bool = True  # §3.4: a residual connection from the first to the second layer
    dropout: float = 0.1  # bilm-tf: dropout 0.1
    unroll: int = 20  # bilm-tf unroll_steps 20: tokens per training window

    def __post_init__(self) -> None:
        self.filters = tuple(tuple(int(v) for v in f) for f in self.filters)  # type: ignore[assignment]
        if min(self.char_dim, self.proj_dim, self.hidden_dim, self.num_layers, self.unroll) < 1:
            raise ValueError("ELMo char_dim, proj_dim, hidden_dim, num_layers and unroll must be >= 1")
        if not self.filters or any(len(f) != 2 or min(f) < 1 for f in self.filters):
            raise ValueError(f"ELMo filters must be (width, maps) pairs >= 1, got {self.filters}")
        if self.max_chars < max(w for w, _ in self.filters):
            raise ValueError(f"ELMo max_chars {self.max_chars} is shorter than the widest filter")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"ELMo dropout must be in [0, 1), got {self.dropout}")


def build_pretrain(cfg: ELMoConfig, pieces: list[str] | None = None) -> BiLM:
    """The biLM; its char table from `pieces` or else from the sentencepiece model `cfg.spm`."""
    if pieces is None:
        if not cfg.spm:
            raise SeminalError("ELMo needs the sentencepiece model for its char table: set model_config.spm")
        pieces = spm_pieces(cfg.spm)
    if cfg.vocab_size != len(pieces):
        raise SeminalError(f"ELMo vocab_size {cfg.vocab_size} != {len(pieces)} pieces", cfg.spm or None)
    return BiLM(cfg, char_table(pieces, cfg.max_chars))


def make_pretrain_batch(ids: np.ndarray, cfg: ELMoConfig, batch_size: int, rng: np.random.Generator
                        ) -> dict[str, torch.Tensor]:
    """Random windows of unroll + 1 tokens of the flat stream: {"tokens": (B, unroll + 1)}."""
    width = cfg.unroll + 1
    if len(ids) < width:
        raise SeminalError(f"the corpus has {len(ids)} ids, fewer than a window of {width}")
    starts = rng.integers(0, len(ids) - width + 1, size=batch_size)
    windows = np.asarray(ids)[starts[:, None] + np.arange(width)]
    return {"tokens": torch.from_numpy(windows.astype(np.int64))}


def bilm_from_checkpoint(path: str | Path) -> BiLM:
    """A pretrained biLM from seminal.pretrain's {"model": "elmo", "config", "state_dict"} file."""
    from seminal.pretrain import load_checkpoint

    config, state = load_checkpoint(path, expect_model="elmo")
    cfg = ELMoConfig(**config)
    bilm = BiLM(cfg, torch.zeros(cfg.vocab_size, cfg.max_chars, dtype=torch.long))  # table: from the state
    bilm.load_state_dict(state)
    return bilm


# ---------------------------------------------------------------------------------------------
# task side: the scalar mix (eq. 1) and the frozen features


class ScalarMix(nn.Module):
    """γ · Σ_j softmax(s)_j · h_j over the L+1 layers; top_only: γ · h_L (Table 2's ablation)."""

    def __init__(self, num_layers: int, top_only: bool = False):
        super().__init__()
        self.num_layers, self.top_only = num_layers, top_only
        self.gamma = nn.Parameter(torch.ones(1))  # γ
        self.s = None if top_only else nn.Parameter(torch.zeros(num_layers))  # s, softmax-normalised

    def weights(self) -> torch.Tensor:
        if self.s is None:
            return F.one_hot(torch.tensor(self.num_layers - 1), self.num_layers).float()
        return torch.softmax(self.s, dim=0)

    def forward(self, layers: torch.Tensor) -> torch.Tensor:
        """(L+1, B, T, D) -> (B, T, D)."""
        if self.s is None:
            return self.gamma * layers[-1]
        return self.gamma * torch.einsum("j,jbtd->btd", self.weights(), layers)


@dataclass
class StateCache:
    """Frozen biLM states per sentence (id bytes -> (L, n, 2P)), at most `max_tokens` tokens."""

    max_tokens: int
    states: dict[bytes, torch.Tensor] = field(default_factory=dict)
    tokens: int = 0


STATE_CACHES: dict[tuple[str, int], StateCache] = {}  # (biLM fingerprint, max_tokens) -> cache, per process


def fingerprint(module: nn.Module) -> str:
    """sha1 of a module's state (names, shapes, bytes): equal weights <=> equal fingerprint."""
    h = hashlib.sha1()
    for name, t in module.state_dict().items():
        h.update(f"{name}{tuple(t.shape)}{t.dtype}".encode())
        h.update(t.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


class ELMoFeatures(nn.Module):
    """Right-padded ids (B, T) -> ELMo vectors (B, T, 2P) from a frozen biLM."""

    def __init__(self, bilm: BiLM, top_only: bool = False, dropout: float = 0.0, cache: bool = True,
                 cache_tokens: int = 1_000_000):
        super().__init__()
        self.bilm = bilm
        for p in bilm.parameters():
            p.requires_grad_(False)
        bilm.eval()
        self.mix = ScalarMix(bilm.cfg.num_layers + 1, top_only)
        self.dropout = nn.Dropout(dropout)
        self.cache_on, self.cache_tokens = cache, cache_tokens
        self.output_dim = 2 * bilm.cfg.proj_dim
        self.clear_cache()
        self.register_load_state_dict_pre_hook(ELMoFeatures._check_bilm)

    @staticmethod
    def _check_bilm(module: ELMoFeatures, state: dict, prefix: str, *args: object) -> None:
        """Loading other biLM weights empties the cache; the same ones (fit restoring its best
        epoch: the biLM is frozen) keep it."""
        own = module.bilm.state_dict()
        incoming = {k[len(prefix) + 5:]: v for k, v in state.items() if k.startswith(prefix + "bilm.")}
        if incoming.keys() != own.keys() or any(not torch.equal(v, own[k]) for k, v in incoming.items()):
            module.clear_cache()

    def clear_cache(self) -> None:
        """Unbind the cache; the next call binds the one of the biLM's current weights."""
        self._store: StateCache | None = None
        self._table: torch.Tensor | None = None  # (V, 2P): layer 0 of every piece

    @property
    def cache(self) -> StateCache:
        if self._store is None:
            key = (fingerprint(self.bilm), self.cache_tokens)
            self._store = STATE_CACHES.setdefault(key, StateCache(self.cache_tokens))
        return self._store

    def train(self, mode: bool = True) -> ELMoFeatures:
        super().train(mode)
        self.bilm.eval()  # frozen: never dropout
        return self

    @torch.no_grad()
    def layer_states(self, ids: torch.Tensor) -> torch.Tensor:
        """(L+1, B, T, 2P) without a graph, through the cache when it is on."""
        if not self.cache_on:
            return self.bilm.states(ids)
        if self._table is None:
            x = self.bilm.tokens.encode_pieces(torch.arange(self.bilm.cfg.vocab_size))
            self._table = torch.cat([x, x], dim=-1)  # (V, 2P)
        B, T = ids.shape
        n = (ids != PAD).sum(dim=1).tolist()
        rows = ids.numpy()
        keys = [rows[b, :n[b]].tobytes() for b in range(B)]
        cache = self.cache
        missing = list(dict.fromkeys(k for k in keys if k not in cache.states))  # unique, in order
        computed: dict[bytes, torch.Tensor] = {}
        if missing:
            first = [keys.index(k) for k in missing]
            sub = ids[first, :max(1, max(n[b] for b in first))]
            lstm = self.bilm.states(sub, layers="lstm")  # (L, M, T', 2P)
            for i, (k, b) in enumerate(zip(missing, first)):
                computed[k] = lstm[:, i, :n[b]].clone()
                if cache.tokens + n[b] <= cache.max_tokens:
                    cache.states[k] = computed[k]
                    cache.tokens += n[b]
        out = torch.zeros(self.bilm.cfg.num_layers + 1, B, T, self.output_dim, dtype=self._table.dtype)
        out[0] = self._table[ids] * (ids != PAD)[:, :, None]
        for b, k in enumerate(keys):
            h = cache.states.get(k)
            out[1:, b, :n[b]] = computed[k] if h is None else h
        return out

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.mix(self.layer_states(ids)))  # (B, T, 2P)


# ---------------------------------------------------------------------------------------------
# task config and builder


@dataclass
class ELMoTaskConfig:
    vocab_size: int = 0  # set from the tokenizer; must equal the biLM's
    num_labels: int = 2  # set from the task; 1 = regression
    pair: bool = False  # set from the task
    checkpoint: str | None = None  # the pretrained biLM (model.pt of the `elmo` pretraining rule)
    top_only: bool = False  # Table 2: the top layer only instead of all layers
    mix_dropout: float = 0.5  # not in the paper; AllenNLP's ELMo configs: dropout 0.5 on ELMo
    cache: bool = True  # not in the paper: frozen biLM states cached per sentence (exact)
    cache_tokens: int = 1_000_000  # at most this many tokens' states cached (L x 2P x 4 B each: 512 B at our sizes)
    # the task model: the GLUE paper's BiLSTM (seminal.models.lstm.LSTMConfig; defaults = GLUE §5)
    cell: str = "lstm"
    embed_dim: int = 300
    hidden_dim: int = 1500
    num_layers: int = 2
    bidirectional: bool = True
    dropout: float = 0.2
    embed_init: float = 0.1
    mlp_dim: int = 512

    def __post_init__(self) -> None:
        if not 0.0 <= self.mix_dropout < 1.0:
            raise ValueError(f"ELMo mix_dropout must be in [0, 1), got {self.mix_dropout}")
        if self.cache_tokens < 0:
            raise ValueError("ELMo cache_tokens must be >= 0")

    def lstm_config(self, extra_dim: int) -> LSTMConfig:
        return LSTMConfig(vocab_size=self.vocab_size, num_labels=self.num_labels, pair=self.pair,
                          cell=self.cell, embed_dim=self.embed_dim, hidden_dim=self.hidden_dim,
                          num_layers=self.num_layers, bidirectional=self.bidirectional,
                          dropout=self.dropout, embed_init=self.embed_init, mlp_dim=self.mlp_dim,
                          extra_dim=extra_dim)


def build(cfg: ELMoTaskConfig, task: TaskSpec, bilm: BiLM | None = None) -> nn.Module:
    """The registry's builder: the BiLSTM task model with ELMo concatenated to its input."""
    if bilm is None:
        if not cfg.checkpoint:
            raise SeminalError("the ELMo task model needs a pretrained biLM: set model_config.checkpoint")
        bilm = bilm_from_checkpoint(cfg.checkpoint)
    if cfg.vocab_size and cfg.vocab_size != bilm.cfg.vocab_size:
        raise SeminalError(f"ELMo vocab_size {cfg.vocab_size} != the biLM's {bilm.cfg.vocab_size}",
                           cfg.checkpoint)
    cfg = replace(cfg, vocab_size=bilm.cfg.vocab_size)
    features = ELMoFeatures(bilm, cfg.top_only, cfg.mix_dropout, cfg.cache, cfg.cache_tokens)
    return build_bilstm(cfg.lstm_config(features.output_dim), task, features=features)
