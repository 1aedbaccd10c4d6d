"""Tekton results, in the type-hint shapes Tekton Chains and the slsa-ml operator read.

RESULTS is the single list of what the whole run (`python -m training`, the train-model Task)
can write; TASK_RESULTS holds it and what each subcommand writes for the Task of the
train-pipeline that runs it. Each Task must declare exactly these, with these object properties
(test/integration/tasks-yaml.test.ts imports this module with a bare python3 and compares; keep
this module free of third-party imports).
"""

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from training.errors import TrainingError

log = logging.getLogger(__name__)

RESULTS: dict[str, dict[str, object]] = {
    "model_ARTIFACT_OUTPUTS": {"type": "object", "properties": ["uri", "digest", "isBuildArtifact"]},
    "dataset_ARTIFACT_INPUTS": {"type": "object", "properties": ["uri", "digest"]},
    "FRAMEWORKS": {"type": "array"},
    "CHAINS-GIT_URL": {"type": "string"},
    "CHAINS-GIT_COMMIT": {"type": "string"},
}
_MODEL_OUTPUT = RESULTS["model_ARTIFACT_OUTPUTS"]
_DATASET_INPUT = RESULTS["dataset_ARTIFACT_INPUTS"]

# Task name -> the results the program writes for it (fetch-source's are written by git, not here).
TASK_RESULTS: dict[str, dict[str, dict[str, object]]] = {
    "train-model": RESULTS,
    "train-cifar10": {
        "dataset_ARTIFACT_INPUTS": _DATASET_INPUT,
        "FRAMEWORKS": {"type": "array"},
        "model-digest": {"type": "string"},
    },
    "evaluate-model": {"accuracy": {"type": "string"}, "test-images": {"type": "string"}},
    "upload-model": {"model_ARTIFACT_OUTPUTS": _MODEL_OUTPUT},
}
_PYTHON_TYPES = {"object": dict, "array": list, "string": str}


@dataclass(frozen=True)
class RunOutcome:
    model_uri: str
    model_sha256: str
    dataset_uri: str
    dataset_sha256: str
    frameworks: list[str]
    source_url: str = ""
    source_commit: str = ""


def result_values(outcome: RunOutcome) -> dict[str, object]:
    values: dict[str, object] = {
        "model_ARTIFACT_OUTPUTS": {
            "uri": outcome.model_uri,
            "digest": f"sha256:{outcome.model_sha256}",
            "isBuildArtifact": "true",
        },
        "dataset_ARTIFACT_INPUTS": {"uri": outcome.dataset_uri, "digest": f"sha256:{outcome.dataset_sha256}"},
        "FRAMEWORKS": outcome.frameworks,
    }
    # Source hints only when the pipeline passed them: an empty URL would be a malformed hint.
    if outcome.source_url and outcome.source_commit:
        values["CHAINS-GIT_URL"] = outcome.source_url
        values["CHAINS-GIT_COMMIT"] = outcome.source_commit
    return values


def _check_declared(name: str, value: object, results: dict[str, dict[str, object]] = RESULTS) -> None:
    declared = results.get(name)
    if declared is None or not isinstance(value, _PYTHON_TYPES[str(declared["type"])]):
        raise TrainingError("INTERNAL", f"result {name} is not declared as {type(value).__name__} in RESULTS")
    if isinstance(value, dict) and sorted(value) != sorted(declared["properties"]):  # type: ignore[arg-type]
        raise TrainingError("INTERNAL", f"result {name} has keys {sorted(value)}, declared {declared['properties']}")


def write_results(results_dir: Path, outcome: RunOutcome) -> dict[str, object]:
    """Writes one file per result (Tekton's $(results.<name>.path)); returns what it wrote."""
    values = result_values(outcome)
    for name, value in values.items():
        _check_declared(name, value)
    _write(results_dir, values)
    return values


def write_task_results(results_dir: Path, task: str, values: dict[str, object]) -> dict[str, object]:
    """Writes the results of one pipeline Task (TASK_RESULTS[task]); returns what it wrote."""
    declared = TASK_RESULTS[task]
    for name, value in values.items():
        _check_declared(name, value, declared)
    _write(results_dir, values)
    return values


def _write(results_dir: Path, values: dict[str, object]) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    for name, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        (results_dir / name).write_text(text, encoding="utf-8")
    log.info("wrote results %s to %s", ", ".join(values), results_dir)
