"""The workflow's configuration: schema validation, lint, and the whole DAG in a dry run."""

from __future__ import annotations

from pathlib import Path

import yaml



def test_lint_is_clean(sh, repo_copy: Path) -> None:
    out = sh(["snakemake", "--lint"], repo_copy)
    assert "Congratulations" in out.stdout + out.stderr


def _dry_run_counts(sh, repo: Path, *args: str) -> tuple[str, dict[str, int]]:
    out = sh(["snakemake", "-n", *args, "--quiet", "rules"], repo).stdout
    return out, {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
                 if len(line.split()) == 2 and line.split()[1].isdigit()}


def test_dry_run_lists_the_whole_dag(sh, repo_copy: Path) -> None:
    out, counts = _dry_run_counts(sh, repo_copy)  # the default profile: what `make replicate` runs
    for rule in ["generate_synglue", "train_tokenizer", "encode_task", "encode_corpus", "data_version", "word2vec",
                 "pretrain", "train", "train_single_sentence", "icl", "table", "submission", "claims", "longlag",
                 "translation", "all"]:
        assert rule in out, rule
    # one training job per model, running its tasks and seeds: 13 models on every task, 3 controls on
    # the single-sentence ones; one in-context job per GPT size (tasks x 3 shot settings x seeds)
    assert counts["train"] == 13 and counts["train_single_sentence"] == 3, out
    assert counts["icl"] == 3 and counts["pretrain"] == 6, out  # elmo, bert, bert_small, 3 GPT sizes
    # the ci profile: the same jobs (config/ci.yaml: four tasks, tiny sizes)
    out, counts = _dry_run_counts(sh, repo_copy, "--profile", "profiles/ci")
    assert counts["train"] == 13 and counts["train_single_sentence"] == 3 and counts["icl"] == 3, out
    assert counts["pretrain"] == 6, out
    # the controls run on the single-sentence tasks only: with none selected, they have no job
    out, counts = _dry_run_counts(sh, repo_copy, "--profile", "profiles/ci", "--config", "tasks=[MRPC]")
    assert counts["train"] == 13 and "train_single_sentence" not in counts, out


def _run_with(sh, repo: Path, tmp_path: Path, patch: dict) -> str:
    cfg = yaml.safe_load((repo / "config/config.yaml").read_text())
    cfg.update(patch)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = sh(["snakemake", "-n", "--configfile", str(path)], repo, check=False)
    assert out.returncode != 0
    return out.stdout + out.stderr


def test_config_failing_the_schema_is_refused(sh, repo_copy: Path, tmp_path: Path) -> None:
    assert "seeds" in _run_with(sh, repo_copy, tmp_path, {"seeds": 0})


def test_unknown_task_is_named(sh, repo_copy: Path, tmp_path: Path) -> None:
    assert "unknown task 'NoSuchTask'" in _run_with(sh, repo_copy, tmp_path, {"tasks": ["NoSuchTask"]})


def test_unknown_model_is_named(sh, repo_copy: Path, tmp_path: Path) -> None:
    assert "unknown model 'nosuch'" in _run_with(sh, repo_copy, tmp_path, {"models": ["nosuch"]})


def test_unknown_task_kind_is_named(sh, own_repo_copy: Path, tmp_path: Path) -> None:
    model = yaml.safe_load((own_repo_copy / "config/models/bilstm.yaml").read_text()) | {"task_kind": "pair"}
    (own_repo_copy / "config/models/bilstm_pairs.yaml").write_text(yaml.safe_dump(model))
    out = _run_with(sh, own_repo_copy, tmp_path, {"models": ["bilstm_pairs"]})
    assert "config/models/bilstm_pairs.yaml: task_kind must be 'single' or absent" in out


def test_environment_yml_has_the_lock_pins() -> None:
    repo = Path(__file__).resolve().parents[2]
    lock = [l for l in (repo / "requirements.lock").read_text().splitlines() if l and not l.startswith("#")]
    env = yaml.safe_load((repo / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == lock
    assert "torch==2.13.0" in lock
