"""profiles/slurm against a real SLURM: a single node from Debian's packages (slurm-wlm + munge), started
by .ci/slurm-up in a temporary folder. The project's own workflow runs in a copy of the repository with
the ci sizes, one cheap model and one task: the data are prepared locally, then the model's jobs
(training, table, submission) go through sbatch with the profile's per-rule resources. Skips, saying
why, where SLURM cannot start (not root, no apt-get, a SLURM of the machine's own)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's snakemake and seminal
SUBSET = ["--config", "models=[majority]", "tasks=[CoLA]", "seeds=1"]  # ci.yaml sizes on top of these

pytestmark = pytest.mark.slow


@pytest.fixture
def slurm(tmp_path: Path) -> Iterator[Path]:
    """SLURM_CONF of a running single-node cluster; the daemons are stopped by process id afterwards."""
    state = tmp_path / "slurm"
    try:
        up = subprocess.run([REPO / ".ci/slurm-up", state], check=False, capture_output=True, text=True, timeout=300)
        if up.returncode == 77:
            pytest.skip(up.stdout.strip())
        assert up.returncode == 0, f".ci/slurm-up failed:\n{up.stdout}\n{up.stderr}"
        yield state / "slurm.conf"
    finally:
        if state.exists():
            subprocess.run([REPO / ".ci/slurm-down", state], timeout=60, check=False)


def _copy_repo(dest: Path) -> Path:
    """The files git would ship (tracked + untracked, not ignored): no data, results or mlflow.db."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        if (REPO / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dest / rel)
    return dest


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int) -> str:
    proc = subprocess.run(args, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}\n{out[-6000:]}"
    return out


def test_workflow_jobs_run_through_sbatch_with_the_profiles_resources(slurm: Path, tmp_path: Path) -> None:
    repo = _copy_repo(tmp_path / "repo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "SNAKEMAKE_", "SLURM_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["SLURM_CONF"] = str(slurm)

    # The data locally (a dozen short jobs), so the SLURM part stays short.
    _run([str(BIN / "snakemake"), "--profile", "profiles/ci", "results/synglue/data_version.json", *SUBSET],
         repo, env, timeout=600)
    # No accounting database here, so job states come from squeue (MinJobAge=600 keeps finished ones).
    # The plugin checks 40 s after submitting, then 10 s later each time nothing finished: 20 s fits
    # these jobs (two Snakemake start-ups and one `seminal` command, ~10-15 s).
    out = _run([str(BIN / "snakemake"), "results/synglue/table.md", "results/synglue/submission/majority.zip",
                "--profile", "profiles/slurm", "--configfile", "config/config.yaml", "config/ci.yaml", *SUBSET,
                "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "20",
                "--slurm-keep-successful-logs"], repo, env, timeout=900)

    submitted = re.findall(r"Job \S+ has been submitted with SLURM jobid (\d+) \(log: \S*/rule_(\w+?)/", out)
    by_rule = {rule: jobid for jobid, rule in submitted}
    assert {"train", "table", "submission"} <= set(by_rule), out[-4000:]  # and whatever else the table needs
    for rule, jobid in by_rule.items():
        job = subprocess.run(["scontrol", "show", "job", jobid], env=env, capture_output=True, text=True,
                             check=True).stdout
        assert "JobState=COMPLETED" in job, f"{rule}: {job}"
        assert f"Comment=rule_{rule}" in job, job
    # The profile's per-rule resources reached sbatch: training (a job per model) asks for 2 CPUs,
    # 8000 MB and 12 hours.
    train = subprocess.run(["scontrol", "show", "job", by_rule["train"]], env=env, capture_output=True,
                           text=True, check=True).stdout
    assert "TimeLimit=12:00:00" in train and re.search(r"\bmem=8000M\b", train) and "NumCPUs=2" in train, train

    table = (repo / "results/synglue/table.md").read_text()
    assert "| majority |" in table
    assert (repo / "results/synglue/runs/majority/CoLA/seed0/metrics.json").is_file()
    assert (repo / "results/synglue/submission/majority.zip").is_file()
    assert list((repo / ".snakemake/slurm_logs/rule_train").rglob("*.log"))  # SLURM's own job log
