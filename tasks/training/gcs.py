"""The one place a google-cloud-storage client is made, and gs:// URIs are parsed."""

import os
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from training.errors import TrainingError

if TYPE_CHECKING:
    from google.cloud import storage


def split_gs_uri(uri: str) -> tuple[str, str]:
    """gs://bucket/some/key -> ("bucket", "some/key")."""
    parsed = urlparse(uri)
    if parsed.scheme != "gs" or not parsed.netloc:
        raise TrainingError("BAD_URI", f"not a gs://bucket/key URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


class GcsClientFactory:
    """Makes the client on first use, so runs that never touch gs:// need no credentials.

    An explicit endpoint (tests, emulators) means anonymous credentials; otherwise the client
    finds Application Default Credentials (Workload Identity on GKE) and itself honours
    STORAGE_EMULATOR_HOST.
    """

    def __init__(self, endpoint: str | None = None, project: str | None = None) -> None:
        self._endpoint = endpoint or None
        self._project = project
        self._client: "storage.Client | None" = None

    def __call__(self) -> "storage.Client":
        if self._client is None:
            self._client = self._make()
        return self._client

    def _make(self) -> "storage.Client":
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        if self._endpoint:
            return storage.Client(
                project=self._project or "test",
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": self._endpoint},
            )
        if os.environ.get("STORAGE_EMULATOR_HOST"):
            return storage.Client(project=self._project or "test", credentials=AnonymousCredentials())
        return storage.Client(project=self._project)
