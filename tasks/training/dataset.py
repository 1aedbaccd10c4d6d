"""Fetches the data set (file://, https://, gs://) and checks its sha256 before anything reads it.

The bytes are copied into the work directory while they are hashed, and only that verified
copy is used afterwards, so the file cannot change between the check and the use.
"""

import hashlib
import logging
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from training.errors import TrainingError
from training.gcs import GcsClientFactory, split_gs_uri

log = logging.getLogger(__name__)

# The public CIFAR10 python archive and its sha256, as recorded by Keras' cifar10 loader.
DEFAULT_DATASET_URI = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
DEFAULT_DATASET_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20
_HTTP_TIMEOUT_S = 60


@dataclass(frozen=True)
class FetchedDataset:
    uri: str
    sha256: str
    path: Path


def parse_expected_sha256(value: str) -> str:
    """Accepts "<hex>" or "sha256:<hex>" (any case); returns 64 lowercase hex."""
    hex_part = value.strip().lower().removeprefix("sha256:")
    if not _HEX64.match(hex_part):
        raise TrainingError("BAD_PARAMETER", f"dataset-sha256 must be 64 hex digits (optionally 'sha256:'), got {value!r}")
    return hex_part


def fetch_dataset(uri: str, expected_sha256: str, work_dir: Path, gcs: GcsClientFactory) -> FetchedDataset:
    expected = parse_expected_sha256(expected_sha256)
    dest = work_dir / "dataset.tar.gz"
    log.info("fetching data set %s", uri)
    try:
        with _open_source(uri, gcs) as source, open(dest, "wb") as sink:
            actual = _copy_hashing(source, sink)
    except TrainingError:
        raise
    except Exception as err:  # network, auth and file errors all mean "could not fetch"
        raise TrainingError("DATASET_UNAVAILABLE", f"cannot fetch data set {uri}: {err}", err) from err
    if actual != expected:
        dest.unlink()
        raise TrainingError(
            "DATASET_DIGEST_MISMATCH",
            f"data set {uri} has sha256 {actual} but {expected} was expected; refusing to train on it",
        )
    log.info("data set sha256 %s matches the expected digest", actual)
    return FetchedDataset(uri=uri, sha256=actual, path=dest)


def _copy_hashing(source: BinaryIO, sink: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        sink.write(chunk)
    return digest.hexdigest()


def _open_source(uri: str, gcs: GcsClientFactory) -> BinaryIO:
    scheme = urlparse(uri).scheme
    if scheme == "file":
        return open(_file_path(uri), "rb")
    if scheme == "https":
        return urllib.request.urlopen(uri, timeout=_HTTP_TIMEOUT_S)  # noqa: S310 - scheme checked above
    if scheme == "gs":
        bucket, key = split_gs_uri(uri)
        return gcs().bucket(bucket).blob(key).open("rb")
    raise TrainingError("BAD_URI", f"data set URI must be file://, https:// or gs://, got {uri!r}")


def _file_path(uri: str) -> Path:
    parsed = urlparse(uri)
    if parsed.netloc not in ("", "localhost"):
        raise TrainingError("BAD_URI", f"file URI must be file:///absolute/path, got {uri!r}")
    return Path(unquote(parsed.path))


