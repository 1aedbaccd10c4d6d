"""Model digests: the model-signing v1.0 directory algorithm, and agreement with src/digest."""

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import run_node
from training.cli import train_and_save
from training.digest import digest_path, directory_digest, model_files
from training.errors import TrainingError
from training.formats import get_format
from training.params import TrainParams

# Names that a plain string sort orders differently from PurePosixPath ('/' < '-' < '.').
TRICKY = {
    "a/b": b"1",
    "a-b": b"2",
    "variables/variables.data-00000-of-00001": b"3",
    "variables.index": b"4",
    "x/.git/kept": b"5",  # only top-level .git is ignored
    ".github/workflows/ci.yml": b"ignored",
    ".gitignore": b"ignored",
    ".gitattributes": b"ignored",
    ".git/HEAD": b"ignored",
    "empty": b"",
}


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "assets").mkdir()  # empty directories contribute nothing
    return root


def test_files_are_ordered_segment_by_segment_and_top_level_git_paths_ignored(tmp_path: Path) -> None:
    assert model_files(_tree(tmp_path, TRICKY)) == [
        "a/b",
        "a-b",
        "empty",
        "variables/variables.data-00000-of-00001",
        "variables.index",
        "x/.git/kept",
    ]


def test_the_root_digest_is_sha256_over_the_concatenated_file_digests(tmp_path: Path) -> None:
    root = _tree(tmp_path, TRICKY)
    expected = hashlib.sha256(b"".join(hashlib.sha256(TRICKY[p]).digest() for p in model_files(root))).hexdigest()
    assert directory_digest(root) == expected == digest_path(root)


def test_a_file_digest_is_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    (tmp_path / "m.pth").write_bytes(b"weights")
    assert digest_path(tmp_path / "m.pth") == hashlib.sha256(b"weights").hexdigest()


def test_a_symbolic_link_in_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(TrainingError) as err:
        directory_digest(tmp_path)
    assert err.value.code == "UNSUPPORTED_MODEL"


def _src_digest(node_bin: str, path: Path) -> str:
    # The operator's own measurement (contract: digestLocalPath in src/digest/index.ts).
    script = (
        "import {digestLocalPath} from './src/digest/index.ts';"
        "const d = await digestLocalPath(process.argv[1]);"
        "console.log(JSON.stringify(d));"
    )
    return json.loads(run_node(node_bin, script, str(path)))["sha256"]


def test_src_digest_agrees_on_a_tree_with_tricky_names(node_bin: str, tmp_path: Path) -> None:
    root = _tree(tmp_path, TRICKY)
    assert _src_digest(node_bin, root) == directory_digest(root)


def test_src_digest_agrees_on_the_models_this_program_writes(
    node_bin: str, cifar_archive: tuple[Path, str], tmp_path: Path
) -> None:
    params = TrainParams(epochs=1, batch_size=32, learning_rate=1e-3, seed=5)
    for name in ("tensorflow_saved_model", "pytorch_model.pth"):
        _, path = train_and_save(get_format(name), cifar_archive[0], params, tmp_path)
        assert _src_digest(node_bin, path) == digest_path(path), name
