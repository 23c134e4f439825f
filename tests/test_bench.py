"""`seminal bench`: the analytic FLOP counts behind MFU, and the benchmark's figures and table.

The FLOP formulas (seminal.bench's docstring) are checked against torch.utils.flop_counter on
one training step of each implementation at a small size, with SDPA's math backend (the counter
sees its matmuls; it does not count the fused CPU attention kernels, nor nn.LSTM's). Speed
itself is never asserted: `seminal bench` prints it.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from seminal import bench

SMALL = bench.Size(vocab=96, d_model=32, layers=2, heads=2, d_ff=64, batch=4, seq=24, lstm_embed=12, lstm_hidden=16,
                   kim_embed=10, kim_filters=6, kim_batch=5, kim_seq=12)
HAS_TRANSFORMERS = importlib.util.find_spec("transformers") is not None


def counted_flops(impl: bench.Impl, batch: bench.Batch) -> int:
    """FLOPs of forward + backward as torch's flop counter sees them."""
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        impl.loss(batch).backward()
    return counter.get_total_flops()


CASES = [("bert", "ours"), ("gpt", "ours"), ("transformer", "ours"), ("transformer", "reference"),
         ("lstm", "ours"), ("kim_cnn", "ours")]
if HAS_TRANSFORMERS:
    CASES += [("bert", "reference"), ("gpt", "reference")]


@pytest.mark.parametrize(("family", "which"), CASES)
def test_analytic_flops_match_torchs_flop_counter(family: str, which: str) -> None:
    fam = bench.make_family(family, bench.synthetic_corpus(30_000, vocab=SMALL.vocab), SMALL)
    torch.manual_seed(0)
    impl = fam.ours() if which == "ours" else fam.reference()
    batch = fam.make_batch(__import__("numpy").random.default_rng(0))
    counted, formula = counted_flops(impl, batch), impl.flops(batch)
    # the formula leaves out bias adds, norms and softmax (not matmuls): within 1%
    assert formula == pytest.approx(counted, rel=0.01), (family, which, formula, counted)


def test_flop_formula_of_a_transformer_step() -> None:
    """6·N·tokens + 12·L·T·d·tokens written out for GPT at the reference size (the docstring's numbers)."""
    d, L, T, V, tokens = 256, 4, 128, 8192, 32 * 128
    n_matmul = L * (4 * d * d + 2 * d * 4 * d) + d * V  # per layer q,k,v,o + FFN; tied output
    expected = 6 * n_matmul * tokens + 12 * L * T * d * tokens
    assert bench.encoder_flops(tokens, T, d, L, 4 * d) + bench.linear_flops(d, V, tokens) == expected
    assert expected / 1e9 == pytest.approx(135.3, abs=0.1)  # GFLOP per step, as `seminal bench` prints


def test_bench_prints_figures_ratios_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = bench.bench(["transformer", "kim_cnn"], steps=2, warmup=1, out=tmp_path / "bench.json", size=SMALL)
    out = capsys.readouterr().out
    assert "| transformer | ours |" in out and "| transformer | torch nn.TransformerEncoder |" in out
    saved = json.loads((tmp_path / "bench.json").read_text())
    assert saved["clock"] == "cpu" and saved["threads"] == 1
    tr, kim = saved["families"]
    for figures in (tr["ours"], tr["reference"], kim["ours"]):
        assert figures["tokens_per_s"] > 0 and figures["step_s"] > 0 and 0 < figures["mfu"] < 5
        assert len(figures["step_times"]) == 2
    assert tr["ratio_tokens_per_s"] == pytest.approx(tr["ours"]["tokens_per_s"] / tr["reference"]["tokens_per_s"])
    assert kim["reference_skipped"] == "no reference implementation for this family"
    assert report["families"][0]["peak_flops"] > 1e8


def test_missing_transformers_skips_the_reference_with_the_reason(monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: None if name == "transformers" else real(name))
    report = bench.bench(["gpt"], steps=1, warmup=0, size=SMALL)
    gpt = report["families"][0]
    assert "reference" not in gpt and "ratio_tokens_per_s" not in gpt
    assert gpt["reference_skipped"].startswith("reference skipped: transformers not installed")
    assert "reference skipped: transformers not installed" in capsys.readouterr().out


def test_peak_memory_sees_an_allocation() -> None:
    m = bench.Machine(torch.device("cpu"), time.process_time, None)
    with bench.PeakMemory(m) as mem:
        x = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
        del x
    if mem.peak is None:
        pytest.skip("no /proc/self/clear_refs on this system")
    assert mem.peak >= 60 * 2**20
