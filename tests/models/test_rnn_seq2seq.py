"""The LSTM encoder-decoder with attention (Luong et al. 2015; Bahdanau et al. 2015 encoder):
parameter count in closed form, the config's defaults, padding, incremental decoding."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from seminal.errors import SeminalError
from seminal.models.rnn_seq2seq import RNNSeq2Seq, RNNSeq2SeqConfig

torch.set_num_threads(1)
TINY = RNNSeq2SeqConfig(vocab_size=30, hidden_dim=8, num_layers=2, bidirectional=True, dropout=0.0)


def ids(*rows: list[int], T: int | None = None) -> torch.Tensor:
    T = T or max(len(r) for r in rows)
    return torch.tensor([r + [0] * (T - len(r)) for r in rows])


def closed_form(c: RNNSeq2SeqConfig) -> int:
    """V H (one embedding: source, target, output) + encoder LSTMs 4H(in + H) + 8H per layer and
    direction (torch keeps two bias vectors) + bridge (K H)(L H) + L H + decoder LSTMs (first
    layer's input H + H if input feeding) + W_a (K H) H + W_c (K H + H) H."""
    H, L, V = c.hidden_dim, c.num_layers, c.vocab_size
    K = 2 if c.bidirectional else 1
    enc = sum(K * (4 * H * ((H if i == 0 else K * H) + H) + 8 * H) for i in range(L))
    dec_in = H + (H if c.input_feeding else 0)
    dec = 4 * H * (dec_in + H) + 8 * H + (L - 1) * (4 * H * 2 * H + 8 * H)
    return V * H + enc + K * H * L * H + L * H + dec + K * H * H + (K * H + H) * H


def test_defaults_are_luongs() -> None:
    c = RNNSeq2SeqConfig()  # Luong et al. 2015 §4.1
    assert (c.num_layers, c.hidden_dim, c.dropout, c.init_range, c.input_feeding) == (4, 1000, 0.2, 0.1, True)
    with pytest.raises(ValueError, match="dropout"):
        RNNSeq2SeqConfig(dropout=1.0)
    with pytest.raises(SeminalError, match="vocab_size"):
        RNNSeq2Seq(RNNSeq2SeqConfig(hidden_dim=4, num_layers=1))


@pytest.mark.parametrize("bidirectional,feed,layers", [(True, True, 2), (False, True, 1), (True, False, 3),
                                                       (False, False, 2)])
def test_num_parameters(bidirectional: bool, feed: bool, layers: int) -> None:
    cfg = replace(TINY, bidirectional=bidirectional, input_feeding=feed, num_layers=layers)
    assert RNNSeq2Seq(cfg).num_parameters() == closed_form(cfg)


def test_closed_form_written_out() -> None:
    # H=8, L=2, K=2, V=30, input feeding: 240 + enc 2(4*8*16+64) + 2(4*8*24+64) + bridge 16*16+16
    # + dec 4*8*24+64 + 4*8*16+64 + W_a 16*8 + W_c 24*8
    assert closed_form(TINY) == 240 + 2 * 576 + 2 * 832 + 272 + 832 + 576 + 128 + 192 == 5056
    # Luong's sizes (4 x 1000, one direction, input feeding) with one 50k vocabulary: 50M embedding
    # + encoder 4 x 8.008M + bridge 4.004M + decoder 12.008M + 3 x 8.008M + W_a 1M + W_c 2M
    assert closed_form(RNNSeq2SeqConfig(vocab_size=50_000)) == 125_068_000


def test_init_is_uniform_in_range() -> None:
    m = RNNSeq2Seq(replace(TINY, init_range=0.05))
    assert all(p.abs().max() <= 0.05 for p in m.parameters())


def test_source_padding_does_not_change_the_output() -> None:
    torch.manual_seed(0)
    m = RNNSeq2Seq(TINY).eval()
    tgt = ids([2, 7, 8, 9], [2, 10])
    short, padded = ids([5, 6, 7], [8, 9]), ids([5, 6, 7], [8, 9], T=7)
    torch.testing.assert_close(m(short, tgt), m(padded, tgt), rtol=1e-5, atol=1e-6)
    # and a sentence's output does not depend on the others in its batch
    torch.testing.assert_close(m(short, tgt)[1:, :2], m(ids([8, 9]), ids([2, 10])), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("feed", [True, False])
def test_step_by_step_equals_forward(feed: bool) -> None:
    """Decoding one token at a time (start/step) gives the logits of the teacher-forced pass."""
    torch.manual_seed(0)
    m = RNNSeq2Seq(replace(TINY, input_feeding=feed)).eval()
    src, tgt = ids([5, 6, 7, 8], [9, 10]), ids([2, 11, 12, 13], [2, 14, 15, 16])
    full = m(src, tgt)
    state, steps = m.start(src), []
    for t in range(1, tgt.size(1) + 1):
        logits, state = m.step(state, tgt[:, :t])
        steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), full, rtol=1e-5, atol=1e-6)


def test_attention_reads_the_source() -> None:
    """Changing one source token changes the decoder's output at every target position."""
    torch.manual_seed(0)
    m = RNNSeq2Seq(TINY).eval()
    tgt = ids([2, 7, 8])
    a, b = m(ids([5, 6, 7]), tgt), m(ids([5, 9, 7]), tgt)
    assert (a - b).abs().amax(-1).min() > 0
