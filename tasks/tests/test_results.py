"""Results in the shapes the operator reads (Tekton Chains type hints)."""

import json
import re
from pathlib import Path

from training.frameworks import installed_frameworks, pypi_purl
from training.results import RESULTS, RunOutcome, write_results

OUTCOME = RunOutcome(
    model_uri="gs://models/run-9/tensorflow_saved_model/",
    model_sha256="ab" * 32,
    dataset_uri="gs://data/cifar-10-python.tar.gz",
    dataset_sha256="cd" * 32,
    frameworks=["pkg:pypi/torch@2.8.0", "pkg:pypi/numpy@2.3.1"],
    source_url="https://example.com/ml/train.git",
    source_commit="e" * 40,
)


def test_with_a_source_every_declared_result_is_written_in_its_declared_type(tmp_path: Path) -> None:
    write_results(tmp_path, OUTCOME)
    files = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert set(files) == set(RESULTS)
    for name, declared in RESULTS.items():
        kind = declared["type"]
        if kind == "string":
            assert files[name] and not files[name].startswith(("{", "[")), name
        else:
            value = json.loads(files[name])
            # Tekton object and array results hold strings only.
            assert isinstance(value, dict if kind == "object" else list), name
            assert all(isinstance(v, str) for v in (value.values() if isinstance(value, dict) else value)), name
            if kind == "object":
                assert sorted(value) == sorted(declared["properties"]), name


def test_the_model_output_is_a_build_artifact_with_a_prefixed_digest(tmp_path: Path) -> None:
    write_results(tmp_path, OUTCOME)
    assert json.loads((tmp_path / "model_ARTIFACT_OUTPUTS").read_text()) == {
        "uri": "gs://models/run-9/tensorflow_saved_model/",
        "digest": "sha256:" + "ab" * 32,
        "isBuildArtifact": "true",
    }
    assert json.loads((tmp_path / "dataset_ARTIFACT_INPUTS").read_text()) == {
        "uri": "gs://data/cifar-10-python.tar.gz",
        "digest": "sha256:" + "cd" * 32,
    }
    assert json.loads((tmp_path / "FRAMEWORKS").read_text()) == OUTCOME.frameworks


def test_without_a_source_no_empty_git_hints_are_written(tmp_path: Path) -> None:
    write_results(tmp_path, RunOutcome(**{**OUTCOME.__dict__, "source_url": "", "source_commit": ""}))
    assert {p.name for p in tmp_path.iterdir()} == {"model_ARTIFACT_OUTPUTS", "dataset_ARTIFACT_INPUTS", "FRAMEWORKS"}


def test_framework_versions_are_package_urls() -> None:
    assert pypi_purl("Torch", "2.8.0+cu128") == "pkg:pypi/torch@2.8.0%2Bcu128"
    assert pypi_purl("tensorflow_cpu", "2.21.0") == "pkg:pypi/tensorflow-cpu@2.21.0"
    found = installed_frameworks()
    assert all(re.match(r"^pkg:pypi/[a-z0-9-]+@\S+$", p) for p in found)
    assert {p.split("@")[0] for p in found} >= {"pkg:pypi/torch", "pkg:pypi/keras", "pkg:pypi/numpy"}
