"""The MLflow UI in a real browser: `mlflow ui` on 127.0.0.1 over the `ci` run's store, opened in
headless Chromium (Debian's `chromium`, driven by Playwright with executable_path); the runs
table lists the models' runs and a run's page shows its metrics. Screenshots are saved.

`make test` installs Playwright and Chromium (.ci/browser-deps); where that is impossible the
test skips and says why."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent  # the venv's mlflow
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ui(ran: Path):
    """`mlflow ui` on 127.0.0.1 in its own process group (its workers die with it)."""
    port = _free_port()
    proc = subprocess.Popen([str(BIN / "mlflow"), "ui", "--backend-store-uri", f"sqlite:///{ran / 'mlflow.db'}",
                             "--host", "127.0.0.1", "--port", str(port)], cwd=ran, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"mlflow ui did not answer on {url} (exit {proc.poll()})")
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def test_mlflow_ui_lists_the_runs_and_their_metrics(ran: Path, ui: str, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (make test installs it: .ci/browser-deps, needs root + apt)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (make test installs it)")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{ran / 'mlflow.db'}")
    exp = client.get_experiment_by_name("synglue")
    child = client.search_runs([exp.experiment_id], "tags.model = 'kim_cnn_rand' and tags.task = 'MRPC'")[0]
    key = "MRPC.dev.acc"
    assert key in child.data.metrics
    shots = tmp_path / "screenshots"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        # tall enough for every top-level run (parents, pretrainings, claims) without scrolling:
        # the runs table renders only the rows in view
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        try:
            page.goto(f"{ui}/#/experiments/{exp.experiment_id}/runs")
            for name in (re.compile(r"^pretrain/"), "kim_cnn_rand", "gpt_small"):  # a pretraining run, parents
                page.get_by_text(name, exact=True).first.wait_for(timeout=90_000)
            page.screenshot(path=shots / "runs.png")
            page.goto(f"{ui}/#/experiments/{exp.experiment_id}/runs/{child.info.run_id}")
            page.get_by_text(key, exact=True).first.wait_for(timeout=90_000)
            page.get_by_text(child.data.tags["data_hash"][:12]).first.wait_for(timeout=30_000)
            page.screenshot(path=shots / "run.png", full_page=True)
        finally:
            page.screenshot(path=shots / "last.png")
            browser.close()
    assert (shots / "runs.png").stat().st_size > 10_000 and (shots / "run.png").stat().st_size > 10_000
    shutil.copytree(shots, ran / "results/synglue/mlflow_ui", dirs_exist_ok=True)  # kept with the run
    data_version = json.loads((ran / "results/synglue/data_version.json").read_text())
    assert data_version["data_hash"] == child.data.tags["data_hash"]
