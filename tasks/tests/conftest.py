"""Shared fixtures: the synthetic data set, Node 24 and the repo's tool paths, a fake GCS server."""

import hashlib
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cifar_fixture import write_cifar_archive

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cifar_archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(path, sha256) of a 38-image archive in the CIFAR10 python layout."""
    path = write_cifar_archive(tmp_path_factory.mktemp("data") / "cifar-10-python.tar.gz")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def node_bin() -> str:
    """Node 24 (hack/install-node.sh provisions it when the machine's node is older)."""
    out = subprocess.run(["bash", str(REPO_ROOT / "hack/install-node.sh")], check=True, capture_output=True, text=True)
    return str(Path(out.stdout.strip()) / "node")


def run_node(node: str, script: str, *args: str) -> str:
    done = subprocess.run(
        [node, "--input-type=module", "-e", script, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise AssertionError(f"node failed ({done.returncode}): {done.stderr}")
    return done.stdout


@pytest.fixture(scope="session")
def tool_paths(node_bin: str) -> dict[str, str]:
    """toolPaths() from hack/env/tools.ts: one source of truth for where provisioned tools live."""
    script = "import {toolPaths} from './hack/env/tools.ts'; console.log(JSON.stringify(toolPaths()));"
    return json.loads(run_node(node_bin, script))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(endpoint: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"fake-gcs-server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{endpoint}/storage/v1/b", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("fake-gcs-server did not become ready in 20s")


@pytest.fixture(scope="session")
def fake_gcs(tool_paths: dict[str, str]) -> Iterator[str]:
    """Endpoint of a fake-gcs-server (in memory) for this test session."""
    binary = Path(tool_paths["fakeGcsServer"])
    if not binary.exists():
        raise AssertionError(f"fake-gcs-server is not provisioned at {binary}: run `bash hack/install-tools.sh fake-gcs-server`")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    args = ["-backend", "memory", "-scheme", "http", "-host", "127.0.0.1", "-port", str(port)]
    args += ["-external-url", endpoint, "-public-host", f"127.0.0.1:{port}", "-log-level", "error"]
    proc = subprocess.Popen([str(binary), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(endpoint, proc)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def gcs_bucket(fake_gcs: str, request: pytest.FixtureRequest) -> str:
    """A fresh bucket per test, so tests never see each other's objects."""
    from training.gcs import GcsClientFactory

    name = "t-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
    GcsClientFactory(fake_gcs)().create_bucket(name)
    return name
