"""Writes a tiny data set in the real CIFAR10 python archive layout, so the real loader reads it."""

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

TRAIN_PER_BATCH = 6  # 5 batches: 30 training images, one step at batch size 32
TEST_IMAGES = 8


def _batch(rng: np.random.Generator, count: int, label: bytes) -> bytes:
    # Same shape and key types as the official archive (pickled under Python 2: bytes keys).
    batch = {
        b"batch_label": label,
        b"labels": [int(v) for v in rng.integers(0, 10, count)],
        b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
        b"filenames": [f"img_{i}.png".encode() for i in range(count)],
    }
    return pickle.dumps(batch, protocol=2)


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def write_cifar_archive(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    with tarfile.open(path, "w:gz") as archive:
        for i in range(1, 6):
            _add(archive, f"data_batch_{i}", _batch(rng, TRAIN_PER_BATCH, f"training batch {i} of 5".encode()))
        _add(archive, "test_batch", _batch(rng, TEST_IMAGES, b"testing batch 1 of 1"))
        _add(archive, "batches.meta", pickle.dumps({b"label_names": [b"c%d" % i for i in range(10)]}, protocol=2))
    return path
