"""Command line: fetch and verify the data set, train, save, digest, upload, write results.

`python -m training [options]` does all of it (the train-model Task). The train-pipeline runs
it in three Tasks over a shared workspace: `python -m training train|evaluate|upload --work-dir W
…` (see training/stages.py); `python -m training <stage> --help` lists each one's options.
"""

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from training.cifar import load_cifar10
from training.dataset import DEFAULT_DATASET_SHA256, DEFAULT_DATASET_URI, fetch_dataset, parse_expected_sha256
from training.digest import digest_path
from training.errors import TrainingError
from training.formats import DEFAULT_FORMAT, FORMATS, ModelFormat, get_format
from training.frameworks import installed_frameworks
from training.gcs import GcsClientFactory
from training.params import TrainParams
from training.results import RESULTS, RunOutcome, write_results, write_task_results
from training.upload import Uploader, model_destination

log = logging.getLogger("training")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    p.add_argument("--format", default=DEFAULT_FORMAT, choices=list(FORMATS), help="model format (also its file name)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--dataset-uri", default=DEFAULT_DATASET_URI, help="file://, https:// or gs:// CIFAR10 python archive")
    p.add_argument("--dataset-sha256", default=DEFAULT_DATASET_SHA256, help="expected sha256 of the archive")
    p.add_argument("--model-uri", help="gs:// (or file://) base; the format name is appended")
    p.add_argument("--results-dir", default=os.environ.get("RESULTS_DIR", "/tekton/results"), type=Path)
    p.add_argument("--storage-endpoint", default=None, help="GCS API endpoint (emulator); anonymous credentials")
    p.add_argument("--source-url", default="", help="git URL of the training source (CHAINS-GIT_URL)")
    p.add_argument("--source-commit", default="", help="commit of the training source (CHAINS-GIT_COMMIT)")
    p.add_argument("--list-results", action="store_true", help="print the result names and types as JSON and exit")
    args = p.parse_args(argv)
    if not args.list_results and not args.model_uri:
        p.error("--model-uri is required")
    return args


STAGE_TASKS = {"train": "train-cifar10", "evaluate": "evaluate-model", "upload": "upload-model"}


def parse_stage_args(argv: list[str]) -> argparse.Namespace:
    stage = argv[0]
    p = argparse.ArgumentParser(prog=f"python -m training {stage}", description=f"The {STAGE_TASKS[stage]} Task's part of the run.")
    p.add_argument("--format", default=DEFAULT_FORMAT, choices=list(FORMATS), help="model format (also its file name)")
    p.add_argument("--work-dir", required=True, type=Path, help="the workspace shared by the pipeline's Tasks")
    p.add_argument("--results-dir", default=os.environ.get("RESULTS_DIR", "/tekton/results"), type=Path)
    p.add_argument("--storage-endpoint", default=None, help="GCS API endpoint (emulator); anonymous credentials")
    if stage == "train":
        p.add_argument("--epochs", type=int, default=1)
        p.add_argument("--batch-size", type=int, default=64)
        p.add_argument("--learning-rate", type=float, default=1e-3)
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--dataset-uri", default=DEFAULT_DATASET_URI, help="file://, https:// or gs:// CIFAR10 python archive")
    if stage in ("train", "evaluate"):
        p.add_argument("--dataset-sha256", default=DEFAULT_DATASET_SHA256, help="expected sha256 of the archive")
    if stage in ("evaluate", "upload"):
        p.add_argument("--model-digest", default="", help="sha256:<hex> the train task reported; the model must still have it")
    if stage == "evaluate":
        p.add_argument("--min-accuracy", type=float, default=0.0, help="fail (ACCURACY_TOO_LOW) below this test accuracy")
    if stage == "upload":
        p.add_argument("--model-uri", required=True, help="gs:// (or file://) base; the format name is appended")
    args = p.parse_args(argv[1:])
    args.stage = stage
    return args


def run_stage(args: argparse.Namespace) -> dict[str, object]:
    from training import stages

    fmt = get_format(args.format)
    gcs = GcsClientFactory(args.storage_endpoint)
    if args.stage == "train":
        params = TrainParams(args.epochs, args.batch_size, args.learning_rate, args.seed)
        values = stages.train_stage(fmt, params, args.dataset_uri, args.dataset_sha256, args.work_dir, gcs)
    elif args.stage == "evaluate":
        values = stages.evaluate_stage(fmt, args.work_dir, args.dataset_sha256, args.model_digest, args.min_accuracy, gcs)
    else:
        values = stages.upload_stage(fmt, args.work_dir, args.model_uri, args.model_digest, gcs)
    return write_task_results(args.results_dir, STAGE_TASKS[args.stage], values)


def train_and_save(fmt: ModelFormat, dataset_path: Path, params: TrainParams, out_dir: Path) -> tuple[Any, Path]:
    """Returns the in-memory model and where it was saved (a file, or a directory)."""
    # Frameworks are imported here so a PyTorch run never loads TensorFlow, and vice versa.
    if fmt.framework == "torch":
        from training import models_torch as framework
    else:
        from training import models_keras as framework  # type: ignore[no-redef]
    data = load_cifar10(dataset_path)
    log.info("loaded %d training and %d test images", len(data.x_train), len(data.x_test))
    model = framework.train(data, params)
    path = out_dir / fmt.name
    framework.save(model, fmt.name, path)
    log.info("saved %s (%s)", path, fmt.description)
    return model, path


def run(args: argparse.Namespace) -> dict[str, object]:
    fmt = get_format(args.format)
    params = TrainParams(args.epochs, args.batch_size, args.learning_rate, args.seed)
    parse_expected_sha256(args.dataset_sha256)  # a bad parameter fails before any download
    destination = model_destination(args.model_uri, fmt)
    gcs = GcsClientFactory(args.storage_endpoint)
    uploader = Uploader(gcs)
    uploader.ensure_absent(destination)  # fail before hours of training, not after
    with tempfile.TemporaryDirectory(prefix="training-") as work:
        dataset = fetch_dataset(args.dataset_uri, args.dataset_sha256, Path(work), gcs)
        out_dir = Path(work) / "model"
        out_dir.mkdir()
        _, local_model = train_and_save(fmt, dataset.path, params, out_dir)
        model_sha256 = digest_path(local_model)
        log.info("model digest sha256:%s", model_sha256)
        uploader.upload(local_model, destination)
    outcome = RunOutcome(
        model_uri=destination,
        model_sha256=model_sha256,
        dataset_uri=dataset.uri,
        dataset_sha256=dataset.sha256,
        frameworks=installed_frameworks(),
        source_url=args.source_url,
        source_commit=args.source_commit,
    )
    return write_results(args.results_dir, outcome)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    argv = sys.argv[1:] if argv is None else argv
    staged = bool(argv) and argv[0] in STAGE_TASKS
    args = parse_stage_args(argv) if staged else parse_args(argv)
    if not staged and args.list_results:
        print(json.dumps(RESULTS))
        return 0
    try:
        written = run_stage(args) if staged else run(args)
    except TrainingError as err:
        log.error("training failed [%s]: %s", err.code, err)
        return 2
    print(json.dumps(written, indent=2))
    return 0
