"""Hochreiter & Schmidhuber 1997's long-lag experiments (seminal.longlag): the generators against
hand-computed cases, the grammar acceptor, the paper's success criteria on hand-made outputs, the
fused 1997 cell against the written-out one, a tiny training run that must solve the adding problem,
determinism, and the job's files, MLflow runs and summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from seminal import longlag
from seminal.errors import SeminalError
from seminal.longlag import (
    SYMBOLS,
    Batch,
    LongLagConfig,
    LongLagNet,
    accepts,
    adding,
    adding_correct,
    embedded_reber,
    order_correct,
    reber_batch,
    reber_correct,
    reber_strings,
    successors,
    temporal_order,
    train_trial,
)

torch.set_num_threads(1)


# ---------------------------------------------------------------------------------------------
# the adding problem


def test_adding_targets_by_hand() -> None:
    b = adding(np.random.default_rng(0), 64, 20)
    for i in range(len(b)):
        n = int(b.lengths[i])
        values, markers = b.x[i, :n, 0], b.x[i, :n, 1]
        marked = np.flatnonzero(markers == 1.0)
        assert len(marked) == 2
        assert marked[0] < 10 and marked[1] < 20 // 2  # X1 among the first 10, X2 in the first half
        assert b.target[i] == pytest.approx(0.5 + (values[marked[0]] + values[marked[1]]) / 4, abs=1e-6)
        if marked[0] != 0:  # first and last pair carry -1 unless marked
            assert markers[0] == -1.0
        else:
            assert values[0] == 0.0  # "in the rare case where the first pair ... gets marked, we set X1 to zero"
        assert markers[n - 1] == -1.0
        assert (np.abs(values) <= 1).all()
        assert not b.x[i, n:].any()  # padding after the end is zero
    assert b.lengths.min() >= 20 and b.lengths.max() <= 22  # T .. T + T/10


def test_adding_a_fixed_sequence() -> None:
    """One sequence by hand: markers at 3 and 7 over values 0.1 .. 1.0 -> 0.5 + (0.4 + 0.8) / 4 = 0.8."""
    values = np.linspace(0.1, 1.0, 10)
    markers = np.array([-1, 0, 0, 1, 0, 0, 0, 1, 0, -1.0])
    x = np.stack([values, markers], -1)[None].astype(np.float32)
    marked = np.flatnonzero(x[0, :, 1] == 1)
    assert 0.5 + x[0, marked, 0].sum() / 4 == pytest.approx(0.8)
    assert adding_correct(np.array([0.8 + 0.039, 0.8 - 0.041]), np.array([0.8, 0.8])).tolist() == [True, False]


def test_adding_marker_positions_cover_their_ranges() -> None:
    b = adding(np.random.default_rng(1), 4000, 100)
    marked = np.array([np.flatnonzero(row == 1.0) for row in b.x[:, :, 1]])  # (N, 2), ascending
    x1 = np.where(marked[:, 0] < 10, marked[:, 0], -1)  # X1's position is the smaller one (X2 may precede it)
    assert marked.shape == (4000, 2) and marked.min() == 0 and marked.max() == 49  # the first T/2 - 1 = 49 unmarked
    assert (x1 >= 0).all() and set(np.unique(marked[:, 0])) <= set(range(10))
    assert set(np.unique(b.lengths)) == set(range(100, 111))


# ---------------------------------------------------------------------------------------------
# the embedded Reber grammar


def test_reber_strings_are_accepted_and_corruptions_rejected() -> None:
    rng = np.random.default_rng(0)
    strings = [embedded_reber(rng) for _ in range(300)]
    assert all(accepts(s) for s in strings)
    assert {s[1] for s in strings} == {"T", "P"}
    assert all(s[1] == s[-2] for s in strings)  # the long-lag dependency
    for s in strings[:100]:
        swapped = s[:-2] + ("P" if s[-2] == "T" else "T") + s[-1]
        assert not accepts(swapped)
        assert not accepts(s[:-1])  # truncated
        assert not accepts(s + "E")
        i = int(rng.integers(2, len(s) - 2))
        for c in SYMBOLS:
            if c != s[i] and c not in successors(s[:i])[-1]:
                assert not accepts(s[:i] + c + s[i + 1:])
    for known in ("BTBTXSETE", "BPBPVVEPE", "BTBTSSXXTVVETE", "BPBPTVPSEPE"):
        assert accepts(known)
    for bad in ("", "BTBTXSEPE", "BTBTXSET", "BTBXSETE", "BTBTXXSETE"):
        assert not accepts(bad)


def test_reber_successor_sets() -> None:
    assert successors("BTBTXSETE") == [frozenset("TP"), frozenset("B"), frozenset("TP"), frozenset("SX"),
                                       frozenset("SX"), frozenset("E"), frozenset("T"), frozenset("E"),
                                       frozenset()]
    assert successors("BPBPV") == [frozenset("TP"), frozenset("B"), frozenset("TP"), frozenset("TV"),
                                   frozenset("PV")]
    assert successors("BX") is None


def test_reber_batch_and_sets() -> None:
    rng = np.random.default_rng(2)
    train = reber_strings(rng, 50)
    test = reber_strings(rng, 50, exclude=frozenset(train))
    assert not set(test) & set(train)
    assert all(len(s) >= 15 for s in reber_strings(rng, 20, min_length=15))
    b = reber_batch(["BTBTXSETE", "BPBPVVEPE"])
    assert b.x.shape == (2, 8, 7) and b.lengths.tolist() == [8, 8]
    assert "".join(SYMBOLS[i] for i in b.target[0]) == "TBTXSETE"
    assert "".join(SYMBOLS[i] for i in b.x[1].argmax(-1)) == "BPBPVVEP"
    assert b.allowed[0, 6].tolist() == [c == "T" for c in SYMBOLS]  # after the inner E: the first branch
    with pytest.raises(SeminalError, match="not an embedded Reber"):
        reber_batch(["BTBTXSEPE"])


def test_reber_criterion_on_hand_made_outputs() -> None:
    b = reber_batch(["BTBTXSETE"])
    scores = np.where(b.allowed, 1.0, 0.0)  # possible successors most active: right
    assert reber_correct(scores, b.allowed, b.lengths).tolist() == [True]
    wrong = scores.copy()
    wrong[0, 6, SYMBOLS.index("P")] = 2.0  # predicts P after the inner E: the long-lag error
    assert reber_correct(wrong, b.allowed, b.lengths).tolist() == [False]
    tie = scores.copy()
    tie[0, 0, SYMBOLS.index("S")] = 1.0  # an impossible symbol as active as a possible one
    assert reber_correct(tie, b.allowed, b.lengths).tolist() == [False]
    half = scores.copy()
    half[0, 0, SYMBOLS.index("P")] = 0.0  # one of the two possible successors not above the rest
    assert reber_correct(half, b.allowed, b.lengths).tolist() == [False]


# ---------------------------------------------------------------------------------------------
# temporal order


def test_temporal_order_labels_and_positions() -> None:
    b = temporal_order(np.random.default_rng(0), 500, 100)
    sym = b.x.argmax(-1)
    names = "abcdXYEB"
    for i in range(len(b)):
        n = int(b.lengths[i])
        s = "".join(names[j] for j in sym[i, :n])
        assert s[0] == "E" and s[-1] == "B" and 100 <= n <= 110
        where = [t for t, c in enumerate(s) if c in "XY"]
        assert len(where) == 2 and 10 <= where[0] <= 20 and 50 <= where[1] <= 60
        assert ["XX", "XY", "YX", "YY"].index(s[where[0]] + s[where[1]]) == b.target[i]
        assert set(s[1:-1]) - set("XY") <= set("abcd")
    assert set(b.target.tolist()) == {0, 1, 2, 3}


def test_order_criterion_on_hand_made_outputs() -> None:
    probs = np.array([[0.75, 0.1, 0.1, 0.05], [0.65, 0.25, 0.05, 0.05], [0.1, 0.1, 0.1, 0.7]])
    assert order_correct(probs, np.array([0, 0, 3])).tolist() == [True, False, False]  # 0.7: error 0.3, not < 0.3


# ---------------------------------------------------------------------------------------------
# the model


def test_fused_1997_cell_is_the_written_out_cell() -> None:
    """The fused path (nn.LSTM, forget gate held open) computes LSTM1997's function, and training
    never moves its forget gate."""
    H = 5
    torch.manual_seed(0)
    loop = LongLagNet("lstm1997", 2, 1, H, input_gate_bias=-3.0)
    fused = LongLagNet("lstm1997", 2, 1, H, input_gate_bias=-3.0, fused_1997=True)
    cell, lstm = loop.rnn.layers[0], fused.rnn.layers[0][0]
    with torch.no_grad():
        fused.proj.load_state_dict(loop.proj.state_dict())
        fused.out.load_state_dict(loop.out.state_dict())
        wi, wo, wc = cell.w_x[0].T.split(H)  # LSTM1997 columns: (input, output, cell input)
        hi, ho, hc = cell.w_h[0].T.split(H)
        bi, bo, bc = cell.b[0, 0].split(H)
        for rows, (w_x, w_h, b) in zip([slice(0, H), slice(2 * H, 3 * H), slice(3 * H, 4 * H)],
                                       [(wi, hi, bi), (wc, hc, bc), (wo, ho, bo)]):
            lstm.weight_ih_l0[rows], lstm.weight_hh_l0[rows], lstm.bias_ih_l0[rows] = w_x, w_h, b
            lstm.bias_hh_l0[rows] = 0.0
    assert (cell.b[0, 0, :H] == -3.0).all()
    x, lengths = torch.randn(3, 9, 2), torch.tensor([9, 6, 2])
    torch.testing.assert_close(fused(x, lengths, every_step=True), loop(x, lengths, every_step=True),
                               rtol=0, atol=1e-6)
    torch.testing.assert_close(fused(x, lengths, every_step=False), loop(x, lengths, every_step=False),
                               rtol=0, atol=1e-6)
    forget = [p[H:2 * H].clone() for p in (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0)]
    opt = torch.optim.Adam(fused.parameters(), lr=0.1)
    for _ in range(3):
        loss = fused(x, lengths, every_step=False).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = [p[H:2 * H] for p in (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0)]
    assert all(torch.equal(a, b) for a, b in zip(forget, after))
    assert not torch.equal(lstm.weight_ih_l0[:H], wi)  # the other gates did learn
    assert fused.num_parameters() == loop.num_parameters() + 3 * H  # torch's second bias on 3 gates


def test_gate_biases_are_set_on_the_right_rows() -> None:
    H = 4
    lstm = LongLagNet("lstm", 2, 1, H, input_gate_bias=-3.0, keep_gate_bias=5.0).rnn.layers[0][0]
    b = lstm.bias_ih_l0 + lstm.bias_hh_l0  # torch's (input, forget, cell, output) rows
    assert (b[:H] == -3.0).all() and (b[H:2 * H] == 5.0).all() and (b[2 * H:].abs() < 1).all()
    gru = LongLagNet("gru", 2, 1, H, input_gate_bias=-3.0, keep_gate_bias=5.0).rnn.layers[0][0]
    assert (gru.bias_ih_l0[H:2 * H] + gru.bias_hh_l0[H:2 * H] == 5.0).all()  # update gate z: h' = (1-z) n + z h
    assert (gru.bias_ih_l0[:H].abs() < 1).all()  # the input gate bias is for the LSTMs only
    cell97 = LongLagNet("lstm1997", 2, 1, H, input_gate_bias=-3.0, keep_gate_bias=5.0).rnn.layers[0]
    assert (cell97.b[0, 0, :H] == -3.0).all() and (cell97.b[0, 0, H:].abs() < 1).all()  # no forget gate to bias
    torch.manual_seed(0)
    plain = LongLagNet("rnn", 2, 1, H).state_dict()
    torch.manual_seed(0)
    asked = LongLagNet("rnn", 2, 1, H, input_gate_bias=-3.0, keep_gate_bias=5.0).state_dict()
    assert all(torch.equal(plain[k], asked[k]) for k in plain)  # an Elman net has no gates


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        LongLagConfig(lr=0)
    with pytest.raises(SeminalError, match="unknown field"):
        longlag.load_config('{"hidden": 3}')
    assert longlag.load_config('{"hidden_dim": 3, "lr": 0.1}').hidden_dim == 3
    with pytest.raises(SeminalError, match="experiment"):
        train_trial("multiplication", "lstm", 10, 0, LongLagConfig())
    with pytest.raises(SeminalError, match="cell"):
        train_trial("adding", "lstm2000", 10, 0, LongLagConfig())


# ---------------------------------------------------------------------------------------------
# training: it must be able to fail

TINY = LongLagConfig(hidden_dim=8, batch_size=32, lr=0.02, input_gate_bias=-3.0, max_steps=600, check_every=50,
                     n_check=128, n_test=256)


def test_lstm_solves_adding_at_T10_and_an_untrained_one_does_not() -> None:
    res = train_trial("adding", "lstm1997", 10, 0, TINY)
    assert res.success and res.steps < TINY.max_steps
    assert res.final_error < 0.02 and res.sequences == res.steps * TINY.batch_size
    assert res.curve[-1]["check_wrong"] == 0 and res.curve[0]["check_wrong"] > 0
    one_step = train_trial("adding", "lstm1997", 10, 0, LongLagConfig(**{**TINY.__dict__, "max_steps": 1}))
    assert not one_step.success and one_step.final_error > 0.5 and one_step.steps == 1


def test_same_seed_same_trial(tmp_path: Path) -> None:
    cfg = LongLagConfig(**{**TINY.__dict__, "max_steps": 60, "check_every": 20})
    a, b = (train_trial("temporal_order", "gru", 20, 3, cfg) for _ in range(2))
    assert a == b
    c = train_trial("temporal_order", "gru", 20, 4, cfg)
    assert c.curve != a.curve


def test_reber_trial_runs_and_checks_train_and_test_strings() -> None:
    cfg = LongLagConfig(hidden_dim=8, batch_size=16, lr=0.02, max_steps=20, check_every=10, n_reber=32)
    res = train_trial("reber", "rnn", 0, 0, cfg)
    assert res.n_test == 32 and len(res.curve) == 2
    assert 0 <= res.curve[-1]["check_wrong"] <= 64  # training plus test strings


# ---------------------------------------------------------------------------------------------
# the pipeline job and the summary


def test_job_files_mlflow_and_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    cfg = LongLagConfig(**{**TINY.__dict__, "max_steps": 40, "check_every": 20, "n_check": 32, "n_test": 32})
    jobs = {c: tmp_path / "longlag" / "adding" / c for c in ("lstm1997", "rnn")}
    for cell, out in jobs.items():
        longlag.run("adding", cell, [10, 20], [0, 1], cfg, out)
    first = (jobs["rnn"] / "T20" / "seed1" / "metrics.json").read_bytes()
    longlag.run("adding", "rnn", [20], [1], cfg, tmp_path / "again")
    assert (tmp_path / "again" / "T20" / "seed1" / "metrics.json").read_bytes() == first  # byte-identical
    m = json.loads(first)
    assert (m["experiment"], m["cell"], m["T"], m["seed"], m["paper"]) == ("adding", "rnn", 20, 1, "hochreiter1997")
    assert "cpu_seconds" in json.loads((jobs["rnn"] / "T20" / "seed1" / "cost.json").read_text())

    summary = longlag.write_summary(list(jobs.values()), tmp_path / "summary.json", tmp_path / "plots" / "ll.png")
    assert set(summary) == {"criteria", "runs"} and set(summary["criteria"]) == {"adding"}
    assert len(summary["runs"]) == 8
    assert set(summary["runs"][0]) == {"experiment", "T", "cell", "seed", "success", "final_error", "steps",
                                       "cpu_seconds"}
    assert [(r["T"], r["cell"], r["seed"]) for r in summary["runs"][:4]] == [
        (10, "lstm1997", 0), (10, "lstm1997", 1), (10, "rnn", 0), (10, "rnn", 1)]
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert (tmp_path / "plots" / "ll.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SeminalError, match="no long-lag runs"):
        longlag.summarize([tmp_path / "plots"])

    client = MlflowClient()
    exp = client.get_experiment_by_name(longlag.MLFLOW_EXPERIMENT)
    runs = client.search_runs([exp.experiment_id])
    children = [r for r in runs if r.data.tags.get("seminal.role") == "child"]
    assert len(children) == 9 and len([r for r in runs if r.data.tags.get("seminal.role") == "parent"]) == 3
    r = next(r for r in children if r.info.run_name == "adding/rnn/T20/seed1")
    assert r.data.tags["paper"] == "hochreiter1997" and r.data.tags["data_hash"].startswith("generated:")
    assert r.data.params["T"] == "20" and "final_error" in r.data.metrics
    assert len(client.get_metric_history(r.info.run_id, "train_loss")) == 40


def test_cli_summary_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from seminal.cli import main

    assert main(["longlag", "summary", "--runs", str(tmp_path), "--out", str(tmp_path / "s.json"),
                 "--plot", str(tmp_path / "p.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no long-lag runs" in err
    assert main(["longlag", "run", "--experiment", "adding", "--cell", "rnn", "--T", "10", "--seeds", "0",
                 "--config", '{"hidden": 1}', "--out", str(tmp_path / "x")]) == 1
    assert "unknown field" in capsys.readouterr().err


def test_batch_len() -> None:
    assert len(Batch(np.zeros((3, 2, 1), np.float32), np.ones(3, np.int64), np.zeros(3, np.float32))) == 3
