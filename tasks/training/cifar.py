"""Reads the CIFAR10 "python version" archive: cifar-10-batches-py/{data_batch_1..5,test_batch}.

Each member is a pickled dict with b"data" (N x 3072 uint8, channel-major rows) and
b"labels". The archive is read in place (no extraction, so no path traversal), and the
pickles are loaded with an allow-list so a tampered archive cannot run code through them.
"""

import io
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.errors import TrainingError

NUM_CLASSES = 10
IMAGE_SHAPE = (32, 32, 3)
_PREFIX = "cifar-10-batches-py/"
_TRAIN_MEMBERS = tuple(f"{_PREFIX}data_batch_{i}" for i in range(1, 6))
_TEST_MEMBER = f"{_PREFIX}test_batch"

# What the official pickles (and numpy's own array pickling) reference; nothing else loads.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


@dataclass(frozen=True)
class Cifar10:
    """Images as float32 NHWC in [0, 1]; labels as int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise TrainingError("BAD_DATASET", f"data set pickle references {module}.{name}, which is not allowed")


def _load_batch(archive: tarfile.TarFile, member: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        handle = archive.extractfile(member)
    except KeyError:
        raise TrainingError("BAD_DATASET", f"data set archive has no {member}") from None
    if handle is None:
        raise TrainingError("BAD_DATASET", f"{member} in the data set archive is not a file")
    batch = _RestrictedUnpickler(io.BytesIO(handle.read()), encoding="bytes").load()
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise TrainingError("BAD_DATASET", f"{member} has data {data.shape} and {len(labels)} labels")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float32) / 255.0
    return images, labels


def load_cifar10(archive_path: Path) -> Cifar10:
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            train = [_load_batch(archive, m) for m in _TRAIN_MEMBERS]
            x_test, y_test = _load_batch(archive, _TEST_MEMBER)
    except (tarfile.TarError, OSError, pickle.UnpicklingError, KeyError) as err:
        raise TrainingError("BAD_DATASET", f"cannot read the CIFAR10 archive: {err}", err) from err
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return Cifar10(x_train, y_train, x_test, y_test)
