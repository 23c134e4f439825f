"""Run telemetry in MLflow: the one module of seminal that imports mlflow.

Layout: one experiment per benchmark (named after it); in it, one parent run per model (run
name = model), and under each parent one child run per (task, seed) that holds the params,
per-step metrics, tags and artifacts of that training run. The jobs of one model agree on one
parent through a small record file (`parent_run`: the first job creates the parent under a file
lock, the others find it there); each job then opens its own child with `child_run(..., parent_id, ...)`.

The store defaults to `sqlite:///<repo root>/mlflow.db` (artifacts beside it in mlartifacts/)
unless MLFLOW_TRACKING_URI is set. SQLite manages only ~65 single writes per second in total
across processes (see shared/reference/machine-notes.md), so `Tracker.log_metrics` buffers and
sends metrics with `log_batch`, 1,000 at a time and when the run ends: logging one metric per
step costs a list append. MLflow is telemetry only: no part of the pipeline reads it back.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.exceptions import MlflowException
from mlflow.utils.validation import (
    MAX_ENTITY_KEY_LENGTH,  # 250: param, metric and tag keys
    MAX_METRICS_PER_BATCH,  # 1000
    MAX_PARAM_VAL_LENGTH,  # 6000 in mlflow 3.17
    MAX_PARAMS_TAGS_PER_BATCH,  # 100
    MAX_TAG_VAL_LENGTH,  # 8000
)

from seminal.errors import SeminalError
from seminal.io import read_json, write_json
from seminal.provenance import repo_root

# What every child run must carry (as a tag or a param), so any number traces back to code and data.
REQUIRED = ("git_commit", "data_hash", "seed", "task", "model", "benchmark")
FLUSH_EVERY = 1000  # buffered metrics per log_batch (MLflow's per-request limit)
TRUNCATED = "...[truncated]"
PARENT_TAG = "mlflow.parentRunId"


def tracking_uri(root: str | Path | None = None) -> str:
    """MLFLOW_TRACKING_URI if set, else sqlite:///<root>/mlflow.db (root: given, or found from cwd)."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    root = Path(root).resolve() if root is not None else repo_root()
    return f"sqlite:///{root / 'mlflow.db'}"


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive flock on `path` (created if need be) across processes, released on exit, also
    when the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def _store_lock(uri: str) -> Iterator[None]:
    """Serialise first use of a sqlite store across processes: MLflow creates its tables when a
    client first opens the file, and two jobs doing so at once fail ('table … already exists')."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    with _file_lock(Path(uri.removeprefix("sqlite:///") + ".lock")):
        yield


def _client(root: str | Path | None) -> MlflowClient:
    uri = tracking_uri(root)
    with _store_lock(uri):
        client = MlflowClient(tracking_uri=uri)
        client.search_experiments(max_results=1)  # opens (and if need be creates) the store
    return client


def _artifact_location(uri: str, experiment: str) -> str | None:
    """Artifacts of a sqlite store live beside the database file (not in the cwd's ./mlruns)."""
    if not uri.startswith("sqlite:///"):
        return None  # a tracking server decides for itself
    db = Path(uri.removeprefix("sqlite:///"))
    return (db.resolve().parent / "mlartifacts" / experiment).as_uri()


def experiment_id(client: MlflowClient, benchmark: str) -> str:
    """The id of the benchmark's experiment, created on first use (tolerating a concurrent creator)."""
    exp = client.get_experiment_by_name(benchmark)
    if exp is not None:
        return exp.experiment_id
    with _store_lock(client.tracking_uri):  # sqlite: one creator at a time
        try:
            return client.create_experiment(  # the kind makes the MLflow UI open on the Runs table
                benchmark, artifact_location=_artifact_location(client.tracking_uri, benchmark),
                tags={"mlflow.experimentKind": "custom_model_development"})
        except MlflowException:  # a tracking server: another process created it meanwhile
            exp = client.get_experiment_by_name(benchmark)
            if exp is None:
                raise
            return exp.experiment_id


# ---------------------------------------------------------------------------------------------
# keys and values within MLflow's limits


def sanitize_key(key: str) -> str:
    """A key MLflow accepts: characters [A-Za-z0-9_ .:/-], no empty/'.'/'..' path parts, <=250."""
    key = re.sub(r"[^\w .:/-]", "_", str(key), flags=re.ASCII)
    parts = [p if p not in ("", ".", "..") else "_" for p in key.split("/")]
    key = "/".join(parts).strip() or "_"
    return key[:MAX_ENTITY_KEY_LENGTH]


def truncate(value: str, limit: int) -> str:
    """`value` cut to `limit` characters, marked as cut, so MLflow never rejects or warns."""
    return value if len(value) <= limit else value[: limit - len(TRUNCATED)] + TRUNCATED


def flatten(config: Mapping[str, Any] | Any, prefix: str = "") -> dict[str, str]:
    """{'train': {'lr': 1e-3}} -> {'train.lr': '0.001'}; dataclasses are expanded like dicts."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    out: dict[str, str] = {}
    for k, v in config.items():
        key = f"{prefix}{k}"
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            v = dataclasses.asdict(v)
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, f"{key}."))
        else:
            out[key] = str(v)
    return out


def _params(params: Mapping[str, Any]) -> list[Param]:
    return [Param(sanitize_key(k), truncate(v, MAX_PARAM_VAL_LENGTH))
            for k, v in sorted(flatten(params).items())]


def _tags(tags: Mapping[str, Any]) -> list[RunTag]:
    return [RunTag(sanitize_key(k), truncate(str(v), MAX_TAG_VAL_LENGTH))
            for k, v in sorted(tags.items())]


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# ---------------------------------------------------------------------------------------------
# runs


@dataclasses.dataclass
class Tracker:
    """One open MLflow run. Metrics are buffered and sent in batches; call `flush` to force it."""

    client: MlflowClient
    run_id: str
    flush_every: int = FLUSH_EVERY
    _buffer: list[Metric] = dataclasses.field(default_factory=list)

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Nested config -> dotted keys ('train.lr'), values stringified and truncated to 6000."""
        for chunk in _chunks(_params(params), MAX_PARAMS_TAGS_PER_BATCH):
            self.client.log_batch(self.run_id, params=chunk)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        for chunk in _chunks(_tags(tags), MAX_PARAMS_TAGS_PER_BATCH):
            self.client.log_batch(self.run_id, tags=chunk)

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Queue one value per key at `step`; sent once `flush_every` values are waiting."""
        ms = int(time.time() * 1000)
        self._buffer.extend(Metric(sanitize_key(k), float(v), ms, int(step)) for k, v in metrics.items())
        if len(self._buffer) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        buffer, self._buffer = self._buffer, []
        for chunk in _chunks(buffer, min(self.flush_every, MAX_METRICS_PER_BATCH)):
            self.client.log_batch(self.run_id, metrics=chunk)

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        self.client.log_artifact(self.run_id, str(path), artifact_path)


def start_parent(benchmark: str, model: str, params: Mapping[str, Any] | None = None,
                 tags: Mapping[str, Any] | None = None, root: str | Path | None = None) -> str:
    """Create the model's parent run in the benchmark's experiment and return its id.

    The parent only groups its children (which point to it by the mlflow.parentRunId tag), so it
    is closed at once as FINISHED: a crashed job never leaves a parent RUNNING forever.
    """
    client = _client(root)
    run = client.create_run(experiment_id(client, benchmark), run_name=model,
                            tags={"model": model, "benchmark": benchmark, "seminal.role": "parent"})
    tracker = Tracker(client, run.info.run_id)
    tracker.set_tags(tags or {})
    tracker.log_params(params or {})
    client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.FINISHED))
    return run.info.run_id


def parent_run(benchmark: str, model: str, params: Mapping[str, Any], record: str | Path,
               root: str | Path | None = None) -> str:
    """The id of the model's parent run, shared by all of the model's jobs through `record`.

    `record` (JSON, beside the children's run folders) names the parent and a hash of the store's
    URI, the benchmark, the model and `params`: a job reuses that parent when the hash is the same
    and the store still holds the run, and otherwise starts a new one and rewrites the record. An
    exclusive flock on `<record>.lock` makes concurrent jobs of one model take turns, so exactly
    one of them creates the parent.
    """
    record = Path(record)
    uri = tracking_uri(root)
    key = hashlib.sha256(json.dumps([uri, benchmark, model, flatten(params)], sort_keys=True).encode()).hexdigest()
    with _file_lock(record.with_name(record.name + ".lock")):
        old = read_json(record) if record.is_file() else {}
        if old.get("key") == key and _is_live(_client(root), old.get("run_id")):
            return old["run_id"]
        run_id = start_parent(benchmark, model, params, tags={"benchmark": benchmark, "model": model}, root=root)
        write_json(record, {"run_id": run_id, "benchmark": benchmark, "model": model, "key": key})
        return run_id


def _is_live(client: MlflowClient, run_id: str | None) -> bool:
    """Whether the store holds run `run_id`, not deleted (a record can outlive its store)."""
    try:
        return run_id is not None and client.get_run(run_id).info.lifecycle_stage == "active"
    except MlflowException:
        return False


@contextmanager
def child_run(benchmark: str, parent_id: str | None, name: str, params: Mapping[str, Any],
              tags: Mapping[str, Any], root: str | Path | None = None) -> Iterator[Tracker]:
    """Open a child run of `parent_id` (None: a top-level run, e.g. a pretraining); it ends
    FINISHED, or FAILED (KILLED on Ctrl-C) if the block raises. Buffered metrics are flushed
    either way. `params` or `tags` must between them name every key in REQUIRED."""
    missing = [k for k in REQUIRED if k not in tags and k not in params]
    if missing:
        raise SeminalError(f"child run {name!r} lacks required tags/params {missing}")
    client = _client(root)
    run = client.create_run(experiment_id(client, benchmark), run_name=name,
                            tags={PARENT_TAG: parent_id, "seminal.role": "child"}
                            if parent_id else {"seminal.role": "pretrain"})
    tracker = Tracker(client, run.info.run_id)
    status = RunStatus.FAILED
    try:
        tracker.set_tags(tags)
        tracker.log_params(params)
        yield tracker
        tracker.flush()
        status = RunStatus.FINISHED
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            status = RunStatus.KILLED
        try:  # keep what was measured before the failure; never mask the original error
            tracker.flush()
        except Exception:  # noqa: BLE001
            pass
        raise
    finally:
        client.set_terminated(run.info.run_id, RunStatus.to_string(status))
