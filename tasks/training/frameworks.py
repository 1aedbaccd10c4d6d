"""Installed training framework versions as package URLs (the FRAMEWORKS result)."""

from importlib.metadata import PackageNotFoundError, version
from urllib.parse import quote

# Distribution names to report, in this order. Only the TensorFlow variants installed appear.
FRAMEWORK_DISTRIBUTIONS = ("torch", "tensorflow", "tensorflow-cpu", "tensorflow-tpu", "keras", "numpy")


def pypi_purl(name: str, ver: str) -> str:
    # purl: the name is lowercased with '_' as '-' (PEP 503); '+' of a local version is escaped.
    normalized = name.lower().replace("_", "-")
    return f"pkg:pypi/{normalized}@{quote(ver, safe='.-_~!')}"


def installed_frameworks() -> list[str]:
    purls = []
    for name in FRAMEWORK_DISTRIBUTIONS:
        try:
            purls.append(pypi_purl(name, version(name)))
        except PackageNotFoundError:
            continue
    return purls
