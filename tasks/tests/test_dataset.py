"""Fetching the data set: digests are checked before use, for every supported URI scheme."""

from pathlib import Path

import pytest

from training.dataset import DEFAULT_DATASET_SHA256, fetch_dataset, parse_expected_sha256
from training.errors import TrainingError
from training.gcs import GcsClientFactory


@pytest.mark.parametrize("value", ["AB" * 32, "sha256:" + "ab" * 32, " SHA256:" + "Ab" * 32 + "\n"])
def test_expected_digest_accepts_bare_or_prefixed_hex_in_any_case(value: str) -> None:
    assert parse_expected_sha256(value) == "ab" * 32


@pytest.mark.parametrize("value", ["", "ab" * 31, "md5:" + "ab" * 32, "zz" * 32])
def test_expected_digest_that_is_not_sha256_hex_is_a_parameter_error(value: str) -> None:
    with pytest.raises(TrainingError) as err:
        parse_expected_sha256(value)
    assert err.value.code == "BAD_PARAMETER"


def test_the_default_digest_is_the_public_cifar10_python_archive() -> None:
    # Recorded by Keras' cifar10 loader for https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz.
    assert DEFAULT_DATASET_SHA256 == "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def test_a_file_uri_with_the_right_digest_is_copied_into_the_work_dir(
    cifar_archive: tuple[Path, str], tmp_path: Path
) -> None:
    archive, sha = cifar_archive
    fetched = fetch_dataset(archive.as_uri(), sha, tmp_path, GcsClientFactory())
    assert fetched.sha256 == sha
    assert fetched.path.parent == tmp_path
    assert fetched.path.read_bytes() == archive.read_bytes()


def test_a_wrong_digest_is_refused_and_the_copy_removed(cifar_archive: tuple[Path, str], tmp_path: Path) -> None:
    archive, _ = cifar_archive
    with pytest.raises(TrainingError) as err:
        fetch_dataset(archive.as_uri(), "0" * 64, tmp_path, GcsClientFactory())
    assert err.value.code == "DATASET_DIGEST_MISMATCH"
    assert archive.as_uri() in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_a_gs_uri_is_read_through_the_storage_client(
    cifar_archive: tuple[Path, str], tmp_path: Path, fake_gcs: str, gcs_bucket: str
) -> None:
    archive, sha = cifar_archive
    gcs = GcsClientFactory(fake_gcs)
    gcs().bucket(gcs_bucket).blob("data/cifar.tar.gz").upload_from_filename(str(archive))
    fetched = fetch_dataset(f"gs://{gcs_bucket}/data/cifar.tar.gz", sha, tmp_path, gcs)
    assert fetched.sha256 == sha


def test_a_missing_object_is_reported_as_unavailable(tmp_path: Path, fake_gcs: str, gcs_bucket: str) -> None:
    with pytest.raises(TrainingError) as err:
        fetch_dataset(f"gs://{gcs_bucket}/nope.tar.gz", "0" * 64, tmp_path, GcsClientFactory(fake_gcs))
    assert err.value.code == "DATASET_UNAVAILABLE"


@pytest.mark.parametrize("uri", ["http://example.com/cifar.tar.gz", "s3://b/cifar.tar.gz", "file://host/x.tar.gz"])
def test_other_schemes_are_refused_before_any_network_access(uri: str, tmp_path: Path) -> None:
    with pytest.raises(TrainingError) as err:
        fetch_dataset(uri, "0" * 64, tmp_path, GcsClientFactory())
    assert err.value.code == "BAD_URI"
