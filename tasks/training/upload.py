"""Publishes the saved model to gs:// (or file:// for local runs), never overwriting.

Objects are created with ifGenerationMatch=0: a model URI names one training run, and the
operator's provenance would be wrong about a model that was silently replaced. A directory
model becomes one object per file under the prefix (the files model_files() digests).
"""

import logging
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

from training.digest import model_files
from training.errors import TrainingError
from training.formats import ModelFormat
from training.gcs import GcsClientFactory, split_gs_uri

log = logging.getLogger(__name__)


def model_destination(base_uri: str, fmt: ModelFormat) -> str:
    """gs://b/runs/42 + pytorch_model.pth -> gs://b/runs/42/pytorch_model.pth (a directory ends in /)."""
    scheme = urlparse(base_uri).scheme
    if scheme not in ("gs", "file"):
        raise TrainingError("BAD_URI", f"model-uri must be a gs:// (or file://) base URI, got {base_uri!r}")
    if scheme == "gs":
        split_gs_uri(base_uri)
    uri = f"{base_uri.rstrip('/')}/{fmt.name}"
    return f"{uri}/" if fmt.directory else uri


class Uploader:
    def __init__(self, gcs: GcsClientFactory) -> None:
        self._gcs = gcs

    def ensure_absent(self, uri: str) -> None:
        """An early, friendly check; the create-only upload below is what really guarantees it."""
        if self._exists(uri):
            raise TrainingError("ALREADY_EXISTS", f"{uri} already exists; use a new model-uri per run")

    def _exists(self, uri: str) -> bool:
        if not uri.startswith("gs://"):
            path = Path(unquote(urlparse(uri).path))
            return path.exists() and (not path.is_dir() or any(path.iterdir()))
        bucket, key = split_gs_uri(uri)
        try:
            client = self._gcs()
            if uri.endswith("/"):
                return any(True for _ in client.list_blobs(bucket, prefix=key, max_results=1))
            return client.bucket(bucket).blob(key).exists()
        except Exception as err:
            raise TrainingError("UPLOAD_FAILED", f"cannot check {uri}: {err}", err) from err

    def upload(self, local: Path, uri: str) -> int:
        """Copies a file, or every model file of a directory (uri ends in /). Returns the object count."""
        pairs = self._pairs(local, uri)
        put = self._put_gcs if uri.startswith("gs://") else self._put_file
        for source, dest in pairs:
            put(source, dest)
        log.info("uploaded %d object(s) to %s", len(pairs), uri)
        return len(pairs)

    @staticmethod
    def _pairs(local: Path, uri: str) -> list[tuple[Path, str]]:
        if not local.is_dir():
            return [(local, uri)]
        return [(local / rel, uri + rel) for rel in model_files(local)]

    def _put_gcs(self, source: Path, uri: str) -> None:
        from google.api_core.exceptions import PreconditionFailed

        bucket, key = split_gs_uri(uri)
        try:
            self._gcs().bucket(bucket).blob(key).upload_from_filename(str(source), if_generation_match=0)
        except PreconditionFailed as err:
            raise TrainingError("ALREADY_EXISTS", f"{uri} already exists; use a new model-uri per run", err) from err
        except Exception as err:
            raise TrainingError("UPLOAD_FAILED", f"cannot upload {uri}: {err}", err) from err

    @staticmethod
    def _put_file(source: Path, uri: str) -> None:
        dest = Path(unquote(urlparse(uri).path))
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(source, "rb") as src, open(dest, "xb") as dst:
                shutil.copyfileobj(src, dst)
        except FileExistsError as err:
            raise TrainingError("ALREADY_EXISTS", f"{uri} already exists; use a new model-uri per run", err) from err
