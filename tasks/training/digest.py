"""Model digests exactly as the operator measures them (see src/digest).

A file: sha256 of its bytes. A directory: the OpenSSF model-signing v1.0 root digest: sha256
of every file, files ordered by POSIX relative path compared segment by segment (as
PurePosixPath orders them: "a/b" before "a-b"), root = sha256 over the concatenated raw
32-byte file digests. Top-level .git/.gitignore/.gitattributes/.github are ignored, as that
spec does; uploads skip them too so the stored prefix measures the same.
"""

import hashlib
from pathlib import Path, PurePosixPath

from training.errors import TrainingError

IGNORED_TOP_LEVEL = frozenset({".git", ".gitignore", ".gitattributes", ".github"})
_CHUNK = 1 << 20


def sha256_file(path: Path) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.digest()


def model_files(root: Path) -> list[str]:
    """Relative POSIX paths of the files that make up a directory model, in digest order."""
    found: list[PurePosixPath] = []
    for path in root.rglob("*"):
        rel = PurePosixPath(path.relative_to(root).as_posix())
        if rel.parts[0] in IGNORED_TOP_LEVEL:
            continue
        if path.is_symlink():
            raise TrainingError("UNSUPPORTED_MODEL", f"model contains a symbolic link: {rel}")
        if path.is_file():
            found.append(rel)
    return [str(p) for p in sorted(found)]


def directory_digest(root: Path) -> str:
    root_hash = hashlib.sha256()
    for rel in model_files(root):
        root_hash.update(sha256_file(root / rel))
    return root_hash.hexdigest()


def digest_path(path: Path) -> str:
    """64 lowercase hex: the file's sha256, or the directory's root digest."""
    return directory_digest(path) if path.is_dir() else sha256_file(path).hex()
