"""The recurrent baseline of Vaswani et al. (2017) Table 2: an LSTM encoder-decoder with attention.

Luong, Pham & Manning (2015), "Effective Approaches to Attention-based Neural Machine Translation",
EMNLP: global attention with the "general" score and input feeding; with the bidirectional encoder
of Bahdanau, Cho & Bengio (2015), "Neural Machine Translation by Jointly Learning to Align and
Translate", ICLR (§3.2), as GNMT (Wu et al. 2016, the paper's strongest recurrent row) has in its
first layer. Read top to bottom: config -> model (encode, decode, the decoding step) -> counts.

    encoder:  h̄_s = [→h_s; ←h_s]  a stack of (bi)directional LSTM layers (Bahdanau §3.2)
    decoder:  h_t = LSTM(h_{t-1}, [E y_{t-1}; h̃_{t-1}])          input feeding (Luong §3.3)
    score:    score(h_t, h̄_s) = h_tᵀ W_a h̄_s                      "general" (Luong §3.1, eq. 8)
    align:    a_t(s) = softmax_s score(h_t, h̄_s);  c_t = Σ_s a_t(s) h̄_s   (Luong eq. 7)
    output:   h̃_t = tanh(W_c [c_t; h_t]);  p(y_t | ...) = softmax(W_s h̃_t)  (Luong eqs. 5, 6)

Luong §4.1's set-up gives the config defaults: 4 layers of 1000 cells, 1000-d embeddings,
parameters uniform in [-0.1, 0.1], dropout 0.2. Training (SGD at lr 1.0 halved every epoch after
the 5th, batch 128, gradient norm clipped at 5) is the trainer's business (seminal.seq2seq and
config/config.yaml, `translation:`).

Deviations, stated where they happen:
- One embedding matrix for the source, the target and the output layer W_s (a shared
  vocabulary, tied as in the Transformer, Vaswani §3.4, after Press & Wolf 2017), so the
  embedding width is the hidden width (it is in Luong: 1000 and 1000). Luong has three matrices.
- The decoder's initial state: Luong copies the encoder's last state layer by layer; with a
  bidirectional encoder that does not fit, so every decoder layer starts from
  h_0 = tanh(W_b [→h_last; ←h_1]) (the top encoder layer's final state in each direction; for one
  direction →h_last alone; Bahdanau Appendix A.2.2 uses tanh(W_s ←h_1)) and c_0 = 0.
- Dropout (Zaremba et al. 2014, on non-recurrent connections, as Luong §4.1): on the embeddings,
  on the encoder output, between decoder layers and on h̃_t before the softmax.
- Luong reverses the source sentence; with attention and a bidirectional encoder we do not.
- Input feeding needs one LSTM call per target step in training (`input_feeding: false` runs the
  decoder over the whole target at once and attends afterwards: Luong's model without §3.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from seminal.errors import SeminalError
from seminal.models.lstm import RecurrentEncoder

PAD_ID = 0  # seminal.translation.PAD


@dataclass
class RNNSeq2SeqConfig:
    vocab_size: int = 0  # set from the data
    hidden_dim: int = 1000  # Luong §4.1: 1000 cells per layer; embeddings 1000-d (= hidden, tied)
    num_layers: int = 4  # Luong §4.1: 4 layers in the encoder and in the decoder
    bidirectional: bool = False  # Luong: one direction; Bahdanau §3.2 / GNMT's first layer: two
    input_feeding: bool = True  # Luong §3.3
    dropout: float = 0.2  # Luong §4.1 (their dropout models)
    init_range: float = 0.1  # Luong §4.1: parameters uniform in [-0.1, 0.1]

    def __post_init__(self) -> None:
        # ValueError: the config loader (seminal.experiment.make_config) adds the file name
        if min(self.hidden_dim, self.num_layers) < 1:
            raise ValueError("RNN seq2seq hidden_dim and num_layers must be >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"RNN seq2seq dropout must be in [0, 1), got {self.dropout}")
        if self.init_range <= 0:
            raise ValueError(f"RNN seq2seq init_range must be > 0, got {self.init_range}")


class RNNSeq2Seq(nn.Module):
    """`forward(src, tgt_in)` -> next-token logits (B, T, V) at each target position (tgt_in
    starts with <s>); `start(src)` and `step(state, prefix)` decode one token at a time."""

    def __init__(self, cfg: RNNSeq2SeqConfig):
        super().__init__()
        if cfg.vocab_size <= 0:
            raise SeminalError("the RNN seq2seq model needs vocab_size (set it from the data)")
        self.cfg = cfg
        H, L = cfg.hidden_dim, cfg.num_layers
        K = 2 if cfg.bidirectional else 1
        self.embed = nn.Embedding(cfg.vocab_size, H)  # source, target and W_s (tied)
        self.encoder = RecurrentEncoder("lstm", H, H, L, cfg.bidirectional)  # -> (B, S, K*H)
        self.bridge = nn.Linear(K * H, L * H)  # W_b: decoder h_0 of every layer
        self.decoder = nn.LSTM(H + (H if cfg.input_feeding else 0), H, num_layers=L, batch_first=True,
                               dropout=cfg.dropout if L > 1 else 0.0)
        self.attn = nn.Linear(K * H, H, bias=False)  # W_a of the general score
        self.combine = nn.Linear(K * H + H, H, bias=False)  # W_c
        self.drop = nn.Dropout(cfg.dropout)
        for p in self.parameters():  # Luong §4.1
            nn.init.uniform_(p, -cfg.init_range, cfg.init_range)

    # -- encoder ---------------------------------------------------------------------------------

    def start(self, src: torch.Tensor) -> dict[str, torch.Tensor]:
        """src (B, S) right-padded -> the decoder's state before <s>: memory (B, S, K*H), its
        projection W_a h̄ (B, S, H), key mask (B, S), h and c (B, L, H), h̃_0 = 0 (B, H)."""
        lengths = (src != PAD_ID).sum(1).clamp(min=1)
        mem = self.encoder(self.drop(self.embed(src)), lengths)  # (B, S, K*H)
        B, H, L = src.size(0), self.cfg.hidden_dim, self.cfg.num_layers
        last = mem[torch.arange(B), lengths - 1, :H]  # →h at the last real position (B, H)
        final = torch.cat([last, mem[:, 0, H:]], dim=-1)  # [→h_last; ←h_1] (B, K*H); ←h_1 if K=2
        h0 = torch.tanh(self.bridge(final)).view(B, L, H)
        mem = self.drop(mem)
        return {"memory": mem, "keys": self.attn(mem), "mask": src != PAD_ID, "h": h0,
                "c": torch.zeros_like(h0), "feed": mem.new_zeros(B, H)}

    # -- attention and output --------------------------------------------------------------------

    def _attend(self, h: torch.Tensor, state: dict[str, torch.Tensor]) -> torch.Tensor:
        """h (B, T, H) decoder states -> h̃ (B, T, H) (Luong eqs. 5, 7, 8)."""
        scores = h @ state["keys"].transpose(1, 2)  # (B, T, S): h_tᵀ W_a h̄_s
        scores = scores.masked_fill(~state["mask"][:, None, :], float("-inf"))
        context = scores.softmax(-1) @ state["memory"]  # (B, T, K*H)
        return self.drop(torch.tanh(self.combine(torch.cat([context, h], dim=-1))))

    def _logits(self, h_tilde: torch.Tensor) -> torch.Tensor:
        return F.linear(h_tilde, self.embed.weight)  # W_s = the embedding matrix (tied)

    # -- decoder ---------------------------------------------------------------------------------

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        state = self.start(src)
        hc = (state["h"].transpose(0, 1).contiguous(), state["c"].transpose(0, 1).contiguous())  # (L, B, H)
        x = self.drop(self.embed(tgt_in))  # (B, T, H)
        if not self.cfg.input_feeding:
            h, _ = self.decoder(x, hc)  # (B, T, H): the whole target in one call
            return self._logits(self._attend(h, state))
        feed, outs = state["feed"], []
        for x_t in x.unbind(1):  # input feeding: h̃_{t-1} is part of the input at t
            h, hc = self.decoder(torch.cat([x_t, feed], dim=-1)[:, None], hc)  # (B, 1, H)
            feed = self._attend(h, state)[:, 0]  # (B, H)
            outs.append(feed)
        return self._logits(torch.stack(outs, dim=1))  # (B, T, V)

    def step(self, state: dict[str, torch.Tensor], prefix: torch.Tensor
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """prefix (N, t) tokens so far (the last one is new) -> logits (N, V) of the next token and
        the new state. Every state tensor has the batch first (decoders reorder beams by it)."""
        x = self.drop(self.embed(prefix[:, -1:]))  # (N, 1, H)
        if self.cfg.input_feeding:
            x = torch.cat([x, state["feed"][:, None]], dim=-1)
        hc = (state["h"].transpose(0, 1).contiguous(), state["c"].transpose(0, 1).contiguous())
        h, (h_n, c_n) = self.decoder(x, hc)
        feed = self._attend(h, state)[:, 0]  # (N, H)
        new = dict(state, h=h_n.transpose(0, 1), c=c_n.transpose(0, 1), feed=feed)
        return self._logits(feed), new

    # -- counts ----------------------------------------------------------------------------------

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def forward_flops(self, batch: int, src_len: int, tgt_len: int) -> int:
        """Matmul FLOPs (2 per multiply-add) of `forward` on a (batch, src_len) source and a
        (batch, tgt_len) target, padding included (it is computed); element-wise work (gates,
        softmax, tanh) is not counted. With H hidden, L layers, K directions, V vocabulary,
        B batch, S and T the source and target lengths, f = 1 with input feeding else 0:

            encoder   B S Σ_l K 8H (in_l + H),  in_0 = H, in_l = K H       (x W_ih + h W_hh, 4 gates)
            bridge    B 2 (K H) (L H)
            W_a h̄     B S 2 (K H) H
            decoder   B T [8H (H + f H + H) + (L - 1) 8H (2H)]
            attention B T (2 S H + 2 S K H)                                scores, context
            W_c       B T 2 (K H + H) H
            W_s       B T 2 H V
        """
        c = self.cfg
        H, L, V, B, S, T = c.hidden_dim, c.num_layers, c.vocab_size, batch, src_len, tgt_len
        K, f = (2 if c.bidirectional else 1), (1 if c.input_feeding else 0)
        enc = sum(K * 8 * H * ((H if i == 0 else K * H) + H) for i in range(L))
        dec = 8 * H * (H + f * H + H) + (L - 1) * 8 * H * 2 * H
        return (B * S * enc + B * 2 * K * H * L * H + B * S * 2 * K * H * H
                + B * T * (dec + 2 * S * H + 2 * S * K * H + 2 * (K * H + H) * H + 2 * H * V))
