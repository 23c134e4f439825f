"""The benchmark file format: the JSON schema (workflow/schemas/benchmark.schema.yaml), its one-line
errors naming file and key, the README's example and field list, and the built-in benchmarks'
prompts (moved from code into the files, unchanged)."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from seminal.benchmark import SCHEMA, Prompt, load_benchmark
from seminal.data import read_split
from seminal.errors import SeminalError
from seminal.io import read_yaml

REPO = Path(__file__).resolve().parents[1]
BUILT_IN = [REPO / "config" / "benchmarks" / f"{name}.yaml" for name in ("synglue", "glue")]

# The in-context prompts as seminal/icl.py held them before they became data (DEFAULT_PROMPTS at
# commit e3ffa3c): the benchmark files must carry exactly these, in this order.
FORMER_PROMPTS = {
    "CoLA": ("{sentence1}\nquestion does this sentence make sense?\nanswer", {"0": "no", "1": "yes"}),
    "SST-2": ("{sentence1}\nquestion is this review good or bad?\nanswer", {"0": "bad", "1": "good"}),
    "MRPC": ("{sentence1}\n{sentence2}\nquestion do both sentences mean the same thing?\nanswer",
             {"0": "no", "1": "yes"}),
    "QQP": ("{sentence1}\n{sentence2}\nquestion do both questions ask the same thing?\nanswer",
            {"0": "no", "1": "yes"}),
    "MNLI": ("{sentence1}\nquestion {sentence2} true, false or neither?\nanswer",
             {"entailment": "true", "contradiction": "false", "neutral": "neither"}),
    "QNLI": ("{sentence1}\n{sentence2}\nquestion does this sentence answer the question?\nanswer",
             {"entailment": "yes", "not_entailment": "no"}),
    "RTE": ("{sentence1}\nquestion {sentence2} true or false?\nanswer",
            {"entailment": "true", "not_entailment": "false"}),
    "WNLI": ("{sentence1}\nquestion {sentence2} true or false?\nanswer", {"1": "true", "0": "false"}),
    "STS-B": ("{sentence1}\n{sentence2}\nquestion how similar are the two sentences, zero to five?\nanswer",
              {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five"}),
}


@pytest.mark.parametrize("path", BUILT_IN, ids=lambda p: p.stem)
def test_built_in_benchmarks_are_valid_under_the_schema(path: Path) -> None:
    schema = read_yaml(SCHEMA)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(read_yaml(path))  # the schema alone, not the loader
    load_benchmark(path)


@pytest.mark.parametrize("path", BUILT_IN, ids=lambda p: p.stem)
def test_built_in_prompts_are_the_former_code_values(path: Path) -> None:
    spec = load_benchmark(path)
    for name, (template, verbalizer) in FORMER_PROMPTS.items():
        p = spec.task(name).prompt
        assert p == Prompt(template, verbalizer) and list(p.verbalizer.items()) == list(verbalizer.items())
    assert spec.task("AX").prompt == spec.task("MNLI").prompt  # AX is predicted, and prompted, as MNLI


# --- one line naming the file and the key ----------------------------------------------------

TASK = {"labels": ["neg", "pos"], "metrics": ["acc"], "splits": {"train": {"file": "t.tsv", "columns": {
    "sentence1": 0, "label": 1}}}}


def _error(tmp_path: Path, task: dict, name: str = "T") -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"name": "mine", "tasks": {name: task}}, sort_keys=False), encoding="utf-8")
    with pytest.raises(SeminalError) as err:
        load_benchmark(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and "\n" not in text
    return text.removeprefix(f"{path}: ")


@pytest.mark.parametrize("change,message", [
    ({"lables": ["a", "b"]}, "task T: unknown key(s) ['lables']; known: ["),
    ({"format": "xlsx"}, "task T: format must be one of ('tsv', 'csv', 'label_sentence') (got 'xlsx')"),
    ({"cv": {"folds": 1}}, "task T: 'cv.folds' must be >= 2 (got 1)"),
    ({"cv": {"seed": 5}}, "task T: 'cv' needs 'folds'"),
    ({"cv": {"folds": 3, "k": 5}}, "task T: unknown key(s) ['k'] in 'cv'; known: ['dev_fraction', 'folds', 'seed']"),
    ({"cv": {"folds": 3, "dev_fraction": 0.7}}, "task T: 'cv.dev_fraction' must be < 0.5 (got 0.7)"),
    ({"prompt": {"template": "{sentence1} x"}}, "task T: 'prompt' needs 'verbalizer'"),
    ({"prompt": {"template": "{sentence1}", "verbalizer": {"neg": "bad", "pos": True}}},
     "task T: 'prompt.verbalizer.pos' must be a string"),
    ({"prompt": {"template": "{sentence1} {sentence3}", "verbalizer": {"neg": "n", "pos": "p"}}},
     "task T: prompt: the template may only use {sentence1} and {sentence2}"),
    ({"prompt": {"template": "{sentence1}", "verbalizer": {"neg": "n", "POS": "p"}}},
     "task T: prompt: verbalizer labels ['POS', 'neg'] != task labels ['neg', 'pos']"),
    ({"encoding": 8}, "task T: 'encoding' must be a string"),
    ({"splits": {"train": {"file": "t.tsv", "header": True, "columns": {"sentence1": "text", "label": "2"}}}},
     "task T split train: column numbers must be integers, not strings"),
    ({"splits": {"train": {"file": "t.tsv", "header": False, "columns": {"sentence1": "text", "label": 1}}}},
     "task T split train: columns by name (['text']) need 'header: true'"),
    ({"splits": {"train": {"file": "t.tsv", "colums": {"sentence1": 0}}}},
     "task T split train: unknown key(s) ['colums']"),
    ({"splits": {"train": {"file": "t.tsv", "columns": {"sentence1": 0, "label": -1}}}},
     "task T split train: 'columns.label' must be >= 0 (got -1)"),
    ({"splits": {"train": {"files": {"neg": "n.txt", "positive": "p.txt"}}}},
     "task T split train: 'files' keys must be the task's labels (unknown: ['positive'])"),
    ({"splits": {"train": {"files": {"neg": "n.txt"}, "columns": {"sentence1": 0}}}},
     "task T split train: 'files' (one file per class, one sentence a line) is for single-sentence tasks"),
    ({"format": "label_sentence", "splits": {"train": {"file": "t.txt", "columns": {"sentence1": 1}}}},
     "task T split train: a label_sentence split needs 'file' and takes no"),
    ({"cv": {"folds": 3}, "splits": {"train": {"file": "t.tsv", "columns": {"sentence1": 0, "label": 1}},
                                     "dev": {"file": "d.tsv", "columns": {"sentence1": 0, "label": 1}}}},
     "task T: a task with 'cv' has one split, 'train' (all its examples)"),
    ({"cv": {"folds": 3}, "splits": {"train": {"file": "t.tsv", "columns": {"sentence1": 0}}}},
     "task T: the 'train' split of a cross-validated task needs labels"),
])
def test_bad_field_is_one_line_naming_file_and_key(tmp_path: Path, change: dict, message: str) -> None:
    assert _error(tmp_path, TASK | change).startswith(message)


def test_bad_names_and_top_level(tmp_path: Path) -> None:
    assert _error(tmp_path, TASK, name="MR.fold1").startswith("tasks 'MR.fold1' must match")
    path = tmp_path / "top.yaml"
    path.write_text("name: mine\ntask: {}\n", encoding="utf-8")
    with pytest.raises(SeminalError, match=re.escape(f"{path}: unknown key(s) ['task']")):
        load_benchmark(path)


# --- the README's section is complete and its example works -----------------------------------

def _readme_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("### Bring your own benchmark")
    return text[start:text.index("\n## ", start)]


def test_readme_documents_every_schema_field() -> None:
    section = _readme_section()
    schema = read_yaml(SCHEMA)
    fields = set(schema["properties"])
    for part in ("task", "split", "prompt", "cv"):
        fields |= set(schema["$defs"][part]["properties"])
    assert len(fields) > 20
    missing = sorted(f for f in fields if f"`{f}`" not in section)
    assert not missing, f"README 'Bring your own benchmark' does not document {missing}"


def test_readme_example_loads_and_reads_real_format_files(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(.*?)```", _readme_section(), re.DOTALL)[1]
    bench = tmp_path / "mine.yaml"
    bench.write_text(example, encoding="utf-8")
    spec = load_benchmark(bench)
    assert spec.name == "mine" and spec.trainable_tasks == ["Sentiment", "Similarity", "SST2"] + [
        f"MR.fold{i}" for i in range(1, 11)]
    data = tmp_path / "data" / "mine"
    files = {
        "sentiment/train.tsv": "text\tpolarity\na fine film\tpositive\na dull one\tnegative\n",
        "sentiment/dev.tsv": "text\tpolarity\nfine\tpositive\n",
        "sentiment/test.tsv": "text\nunseen\n",
        "similarity/train.csv": '"A man, walking.",A man walks.,4.8\nA cat.,A car.,0.2\n',
        "similarity/dev.csv": "x,y,2.5\n",
        "sst/stsa.binary.train": "1 a great movie\n0 a dull , slow movie\n",
        "sst/stsa.binary.dev": "1 fine\n",
        "rt-polarity.neg": "".join(f"dull {i}\n" for i in range(10)),
        "rt-polarity.pos": "".join(f"caf\xe9 {i}\n" for i in range(10)),
    }
    for rel, text in files.items():
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_bytes(text.encode("latin-1" if rel.startswith("rt-") else "utf-8"))
    sim = read_split(spec.task("Similarity"), "train", data)
    assert sim.sentence1 == ["A man, walking.", "A cat."] and sim.labels == ["4.8", "0.2"]
    assert read_split(spec.task("Sentiment"), "test", data).labels is None
    assert read_split(spec.task("SST2"), "train", data).sentence1[1] == "a dull , slow movie"
    assert read_split(spec.task("MR"), "train", data).sentence1[10] == "café 0"
