"""The run split in three, one per Task of the train-pipeline, sharing a workspace directory:

  train     fetch and verify the data set, train, save  -> <work>/model/<format>, <work>/dataset/
  evaluate  re-verify the data set copy and the model, measure test accuracy (optionally a gate)
  upload    re-check the model's digest, upload it create-only under model-uri, report it

Each later stage checks the digest the train stage reported before using what it finds in the
workspace, so a model changed between the Tasks is refused rather than evaluated or published.
"""

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from training.cifar import load_cifar10
from training.dataset import fetch_dataset, parse_expected_sha256
from training.digest import digest_path
from training.errors import TrainingError
from training.formats import ModelFormat
from training.frameworks import installed_frameworks
from training.gcs import GcsClientFactory
from training.loaders import accuracy, load_predictor
from training.params import TrainParams
from training.upload import Uploader, model_destination

log = logging.getLogger(__name__)

DATASET_FILE = "dataset.tar.gz"


def model_path(work: Path, fmt: ModelFormat) -> Path:
    return work / "model" / fmt.name


def dataset_path(work: Path) -> Path:
    return work / "dataset" / DATASET_FILE


def train_stage(fmt: ModelFormat, params: TrainParams, dataset_uri: str, dataset_sha256: str, work: Path, gcs: GcsClientFactory) -> dict[str, object]:
    """Trains into the workspace; returns the train-cifar10 Task's results."""
    from training.cli import train_and_save  # the whole run's training, shared

    parse_expected_sha256(dataset_sha256)
    (work / "dataset").mkdir(parents=True, exist_ok=True)
    dataset = fetch_dataset(dataset_uri, dataset_sha256, work / "dataset", gcs)
    out_dir = work / "model"
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove(model_path(work, fmt))  # a retried attempt's leftovers, never published
    _, local = train_and_save(fmt, dataset.path, params, out_dir)
    sha256 = digest_path(local)
    log.info("model digest sha256:%s", sha256)
    return {
        "dataset_ARTIFACT_INPUTS": {"uri": dataset.uri, "digest": f"sha256:{dataset.sha256}"},
        "FRAMEWORKS": installed_frameworks(),
        "model-digest": f"sha256:{sha256}",
    }


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    test_images: int


def evaluate_stage(fmt: ModelFormat, work: Path, dataset_sha256: str, model_digest: str, min_accuracy: float, gcs: GcsClientFactory) -> dict[str, object]:
    """Measures test accuracy of the workspace's model; returns the evaluate-model Task's results."""
    local = _checked_model(fmt, work, model_digest)
    with tempfile.TemporaryDirectory(prefix="evaluate-") as tmp:
        dataset = fetch_dataset(dataset_path(work).as_uri(), dataset_sha256, Path(tmp), gcs)
        data = load_cifar10(dataset.path)
    result = Evaluation(accuracy(load_predictor(fmt, local), data.x_test, data.y_test), len(data.x_test))
    log.info("test accuracy %.4f on %d images", result.accuracy, result.test_images)
    if result.accuracy < min_accuracy:
        raise TrainingError("ACCURACY_TOO_LOW", f"test accuracy {result.accuracy:.4f} is below min-accuracy {min_accuracy}; not publishing")
    return {"accuracy": f"{result.accuracy:.4f}", "test-images": str(result.test_images)}


def upload_stage(fmt: ModelFormat, work: Path, model_uri: str, model_digest: str, gcs: GcsClientFactory) -> dict[str, object]:
    """Uploads the workspace's model create-only; returns the upload-model Task's results."""
    destination = model_destination(model_uri, fmt)
    local = _checked_model(fmt, work, model_digest)
    sha256 = digest_path(local)
    uploader = Uploader(gcs)
    uploader.ensure_absent(destination)
    uploader.upload(local, destination)
    return {"model_ARTIFACT_OUTPUTS": {"uri": destination, "digest": f"sha256:{sha256}", "isBuildArtifact": "true"}}


def _checked_model(fmt: ModelFormat, work: Path, expected: str) -> Path:
    local = model_path(work, fmt)
    if not local.exists():
        raise TrainingError("MODEL_MISSING", f"no {fmt.name} in the workspace ({local}); did the train task run with the same format and workspace?")
    if expected:
        want = _parse_digest(expected)
        actual = digest_path(local)
        if actual != want:
            raise TrainingError("MODEL_CHANGED", f"{local} has sha256 {actual} but the train task reported {want}; refusing to use it")
    return local


def _parse_digest(value: str) -> str:
    try:
        return parse_expected_sha256(value)
    except TrainingError:
        raise TrainingError("BAD_PARAMETER", f"model-digest must be sha256:<64 hex>, got {value!r}") from None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
