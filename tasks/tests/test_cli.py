"""The program as the train-model Task runs it: results, uploads, and refusals."""

import hashlib
import json
import re
from pathlib import Path

import pytest

from training.cli import main
from training.digest import directory_digest
from training.gcs import GcsClientFactory
from training.results import RESULTS

PURL = re.compile(r"^pkg:pypi/[a-z0-9-]+@[0-9A-Za-z.!%-]+$")


def _args(archive: Path, sha256: str, model_uri: str, results: Path, fmt: str) -> list[str]:
    return [
        "--format", fmt, "--epochs", "1", "--batch-size", "32", "--learning-rate", "0.001", "--seed", "3",
        "--dataset-uri", archive.as_uri(), "--dataset-sha256", sha256,
        "--model-uri", model_uri, "--results-dir", str(results),
    ]  # fmt: skip


def _read_results(results: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in results.iterdir()}


def test_list_results_prints_the_declared_results(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-results"]) == 0
    assert json.loads(capsys.readouterr().out) == RESULTS


def test_when_training_to_a_file_uri_the_results_describe_the_uploaded_model(
    cifar_archive: tuple[Path, str], tmp_path: Path
) -> None:
    archive, sha = cifar_archive
    results = tmp_path / "results"
    base = (tmp_path / "bucket" / "run-1").as_uri()
    argv = _args(archive, "sha256:" + sha.upper(), base, results, "pytorch_model.pth")
    argv += ["--source-url", "https://example.com/ml/train.git", "--source-commit", "a" * 40]

    assert main(argv) == 0

    written = _read_results(results)
    assert set(written) == set(RESULTS)
    model = json.loads(written["model_ARTIFACT_OUTPUTS"])
    uploaded = tmp_path / "bucket" / "run-1" / "pytorch_model.pth"
    assert model == {
        "uri": f"{base}/pytorch_model.pth",
        "digest": "sha256:" + hashlib.sha256(uploaded.read_bytes()).hexdigest(),
        "isBuildArtifact": "true",
    }
    assert json.loads(written["dataset_ARTIFACT_INPUTS"]) == {"uri": archive.as_uri(), "digest": f"sha256:{sha}"}
    frameworks = json.loads(written["FRAMEWORKS"])
    assert all(PURL.match(p) for p in frameworks), frameworks
    assert {p.split("@")[0] for p in frameworks} >= {"pkg:pypi/torch", "pkg:pypi/keras", "pkg:pypi/numpy"}
    assert any(p.startswith("pkg:pypi/tensorflow") for p in frameworks)
    assert written["CHAINS-GIT_URL"] == "https://example.com/ml/train.git"
    assert written["CHAINS-GIT_COMMIT"] == "a" * 40


def test_when_the_model_is_a_saved_model_every_file_is_uploaded_under_the_prefix(
    cifar_archive: tuple[Path, str], tmp_path: Path, fake_gcs: str, gcs_bucket: str
) -> None:
    archive, sha = cifar_archive
    results = tmp_path / "results"
    argv = _args(archive, sha, f"gs://{gcs_bucket}/models/run-2", results, "tensorflow_saved_model")

    assert main([*argv, "--storage-endpoint", fake_gcs]) == 0

    model = json.loads(_read_results(results)["model_ARTIFACT_OUTPUTS"])
    prefix = "models/run-2/tensorflow_saved_model/"
    assert model["uri"] == f"gs://{gcs_bucket}/{prefix}"
    client = GcsClientFactory(fake_gcs)()
    blobs = list(client.list_blobs(gcs_bucket, prefix=prefix))
    assert "saved_model.pb" in {b.name[len(prefix) :] for b in blobs}
    downloaded = tmp_path / "downloaded"
    for blob in blobs:
        target = downloaded / blob.name[len(prefix) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        blob.download_to_filename(str(target))
    assert model["digest"] == f"sha256:{directory_digest(downloaded)}"


def test_when_the_data_set_digest_is_wrong_training_stops_before_any_upload(
    cifar_archive: tuple[Path, str], tmp_path: Path, fake_gcs: str, gcs_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    archive, sha = cifar_archive
    wrong = ("0" if sha[0] != "0" else "1") + sha[1:]
    results = tmp_path / "results"
    argv = _args(archive, wrong, f"gs://{gcs_bucket}/models/run-3", results, "pytorch_model.pth")

    assert main([*argv, "--storage-endpoint", fake_gcs]) == 2

    assert "DATASET_DIGEST_MISMATCH" in caplog.text
    assert f"{sha} was expected" not in caplog.text and f"{wrong} was expected" in caplog.text
    assert list(GcsClientFactory(fake_gcs)().list_blobs(gcs_bucket)) == []
    assert not results.exists()
    assert not any("epoch" in r.getMessage() for r in caplog.records), "training ran on an unverified data set"


def test_when_the_model_uri_already_holds_a_model_nothing_is_trained_or_replaced(
    cifar_archive: tuple[Path, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    archive, sha = cifar_archive
    existing = tmp_path / "bucket" / "run-4" / "pytorch_model.pth"
    existing.parent.mkdir(parents=True)
    existing.write_bytes(b"an earlier model")
    results = tmp_path / "results"

    assert main(_args(archive, sha, existing.parent.as_uri(), results, "pytorch_model.pth")) == 2

    assert "ALREADY_EXISTS" in caplog.text
    assert existing.read_bytes() == b"an earlier model"
    assert not results.exists()


def test_a_model_uri_that_is_not_gs_or_file_is_refused(cifar_archive: tuple[Path, str], tmp_path: Path) -> None:
    archive, sha = cifar_archive
    assert main(_args(archive, sha, "s3://bucket/model", tmp_path / "r", "pytorch_model.pth")) == 2
