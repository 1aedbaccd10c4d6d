"""The run split over the train-pipeline's Tasks: train, evaluate and upload sharing a workspace."""

import hashlib
import json
from pathlib import Path

import pytest

from training.cli import main
from training.digest import directory_digest
from training.gcs import GcsClientFactory
from training.results import TASK_RESULTS


def _train(archive: Path, sha256: str, work: Path, results: Path, fmt: str) -> int:
    return main([
        "train", "--format", fmt, "--epochs", "1", "--batch-size", "32", "--seed", "3",
        "--dataset-uri", archive.as_uri(), "--dataset-sha256", sha256,
        "--work-dir", str(work), "--results-dir", str(results),
    ])  # fmt: skip


def _read(results: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in results.iterdir()}


@pytest.fixture
def trained(cifar_archive: tuple[Path, str], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A workspace after the train task (pytorch_model.pth), and that task's results."""
    archive, sha = cifar_archive
    work, results = tmp_path / "work", tmp_path / "train-results"
    assert _train(archive, sha, work, results, "pytorch_model.pth") == 0
    return work, _read(results)


def test_train_leaves_the_model_and_the_verified_data_set_in_the_workspace_and_reports_them(
    trained: tuple[Path, dict[str, str]], cifar_archive: tuple[Path, str]
) -> None:
    work, written = trained
    archive, sha = cifar_archive
    assert set(written) == set(TASK_RESULTS["train-cifar10"])
    model = work / "model" / "pytorch_model.pth"
    assert written["model-digest"] == "sha256:" + hashlib.sha256(model.read_bytes()).hexdigest()
    assert json.loads(written["dataset_ARTIFACT_INPUTS"]) == {"uri": archive.as_uri(), "digest": f"sha256:{sha}"}
    assert any(p.startswith("pkg:pypi/torch@") for p in json.loads(written["FRAMEWORKS"]))
    assert hashlib.sha256((work / "dataset" / "dataset.tar.gz").read_bytes()).hexdigest() == sha


def test_evaluate_reports_the_test_accuracy_of_the_trained_model(
    trained: tuple[Path, dict[str, str]], cifar_archive: tuple[Path, str], tmp_path: Path
) -> None:
    work, train = trained
    results = tmp_path / "eval-results"
    argv = ["evaluate", "--format", "pytorch_model.pth", "--work-dir", str(work), "--results-dir", str(results)]
    assert main([*argv, "--dataset-sha256", cifar_archive[1], "--model-digest", train["model-digest"]]) == 0

    written = _read(results)
    assert set(written) == set(TASK_RESULTS["evaluate-model"])
    assert 0.0 <= float(written["accuracy"]) <= 1.0
    assert int(written["test-images"]) > 0


def test_evaluate_fails_below_min_accuracy(
    trained: tuple[Path, dict[str, str]], cifar_archive: tuple[Path, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    work, train = trained
    argv = ["evaluate", "--format", "pytorch_model.pth", "--work-dir", str(work), "--results-dir", str(tmp_path / "r")]
    argv += ["--dataset-sha256", cifar_archive[1], "--model-digest", train["model-digest"], "--min-accuracy", "1.01"]
    assert main(argv) == 2
    assert "ACCURACY_TOO_LOW" in caplog.text
    assert not (tmp_path / "r").exists()


def test_upload_publishes_the_trained_model_create_only_and_reports_it(
    trained: tuple[Path, dict[str, str]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    work, train = trained
    base = (tmp_path / "bucket" / "run-1").as_uri()
    argv = ["upload", "--format", "pytorch_model.pth", "--work-dir", str(work), "--model-uri", base, "--model-digest", train["model-digest"]]

    assert main([*argv, "--results-dir", str(tmp_path / "r1")]) == 0

    written = _read(tmp_path / "r1")
    assert set(written) == set(TASK_RESULTS["upload-model"])
    assert json.loads(written["model_ARTIFACT_OUTPUTS"]) == {
        "uri": f"{base}/pytorch_model.pth", "digest": train["model-digest"], "isBuildArtifact": "true",
    }  # fmt: skip
    assert (tmp_path / "bucket" / "run-1" / "pytorch_model.pth").read_bytes() == (work / "model" / "pytorch_model.pth").read_bytes()
    # A second upload to the same place is refused, and the first stays.
    assert main([*argv, "--results-dir", str(tmp_path / "r2")]) == 2
    assert "ALREADY_EXISTS" in caplog.text


def test_a_model_changed_in_the_workspace_after_training_is_neither_evaluated_nor_uploaded(
    trained: tuple[Path, dict[str, str]], cifar_archive: tuple[Path, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    work, train = trained
    (work / "model" / "pytorch_model.pth").write_bytes(b"swapped between the tasks")
    common = ["--format", "pytorch_model.pth", "--work-dir", str(work), "--model-digest", train["model-digest"]]
    target = tmp_path / "bucket" / "run-2"

    assert main(["evaluate", *common, "--dataset-sha256", cifar_archive[1], "--results-dir", str(tmp_path / "e")]) == 2
    assert main(["upload", *common, "--model-uri", target.as_uri(), "--results-dir", str(tmp_path / "u")]) == 2

    assert caplog.text.count("MODEL_CHANGED") == 2
    assert not target.exists()


def test_a_saved_model_directory_goes_through_all_three_tasks_to_gcs(
    cifar_archive: tuple[Path, str], tmp_path: Path, fake_gcs: str, gcs_bucket: str
) -> None:
    archive, sha = cifar_archive
    work = tmp_path / "work"
    assert _train(archive, sha, work, tmp_path / "t", "tensorflow_saved_model") == 0
    digest = _read(tmp_path / "t")["model-digest"]
    assert digest == "sha256:" + directory_digest(work / "model" / "tensorflow_saved_model")
    common = ["--format", "tensorflow_saved_model", "--work-dir", str(work), "--model-digest", digest, "--storage-endpoint", fake_gcs]
    assert main(["evaluate", *common, "--dataset-sha256", sha, "--results-dir", str(tmp_path / "e")]) == 0
    assert main(["upload", *common, "--model-uri", f"gs://{gcs_bucket}/models/run-3", "--results-dir", str(tmp_path / "u")]) == 0

    model = json.loads(_read(tmp_path / "u")["model_ARTIFACT_OUTPUTS"])
    prefix = "models/run-3/tensorflow_saved_model/"
    assert model == {"uri": f"gs://{gcs_bucket}/{prefix}", "digest": digest, "isBuildArtifact": "true"}
    names = {b.name[len(prefix) :] for b in GcsClientFactory(fake_gcs)().list_blobs(gcs_bucket, prefix=prefix)}
    assert "saved_model.pb" in names


def test_upload_without_a_trained_model_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    argv = ["upload", "--format", "pytorch_model.pth", "--work-dir", str(tmp_path / "empty"), "--model-uri", (tmp_path / "b").as_uri()]
    assert main([*argv, "--results-dir", str(tmp_path / "r")]) == 2
    assert "MODEL_MISSING" in caplog.text
