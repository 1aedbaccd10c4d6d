"""The CIFAR10 loader reads the official layout and refuses pickles that would run code."""

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tests.cifar_fixture import TEST_IMAGES, TRAIN_PER_BATCH
from training.cifar import load_cifar10
from training.errors import TrainingError


def test_the_archive_loads_as_nhwc_images_in_the_unit_range(cifar_archive: tuple[Path, str]) -> None:
    data = load_cifar10(cifar_archive[0])
    assert data.x_train.shape == (5 * TRAIN_PER_BATCH, 32, 32, 3)
    assert data.x_test.shape == (TEST_IMAGES, 32, 32, 3)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert set(data.y_train) <= set(range(10))


def test_rows_are_read_channel_major_as_the_official_archive_stores_them(cifar_archive: tuple[Path, str]) -> None:
    with tarfile.open(cifar_archive[0]) as archive:
        handle = archive.extractfile("cifar-10-batches-py/test_batch")
        assert handle is not None
        row = pickle.load(handle, encoding="bytes")[b"data"][0]
    image = load_cifar10(cifar_archive[0]).x_test[0]
    # Pixel (0, 1): red at 1, green at 1024 + 1, blue at 2048 + 1.
    assert np.allclose(image[0, 1], np.array([row[1], row[1025], row[2049]]) / 255.0)


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(self.marker),))  # type: ignore[return-value]


def test_a_batch_that_references_other_code_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    payload = pickle.dumps({b"data": _RunsCode(marker), b"labels": []}, protocol=2)
    archive_path = tmp_path / "evil.tar.gz"
    with tarfile.open(archive_path, "w:gz") as archive:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))

    with pytest.raises(TrainingError) as err:
        load_cifar10(archive_path)
    assert err.value.code == "BAD_DATASET"
    assert not marker.exists()


def test_an_archive_without_the_cifar_members_is_a_data_set_error(tmp_path: Path) -> None:
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("README")
        archive.addfile(info, io.BytesIO(b""))
    with pytest.raises(TrainingError) as err:
        load_cifar10(path)
    assert err.value.code == "BAD_DATASET"
