"""The seven model formats: each name is also the file (or directory) name in storage."""

from dataclasses import dataclass

from training.errors import TrainingError


@dataclass(frozen=True)
class ModelFormat:
    name: str
    framework: str  # 'torch' or 'keras'
    directory: bool
    description: str


FORMATS: dict[str, ModelFormat] = {
    f.name: f
    for f in (
        ModelFormat("tensorflow_model.keras", "keras", False, "Keras v3 format (zip archive)"),
        ModelFormat("tensorflow_hdf5_model.h5", "keras", False, "legacy Keras HDF5 (architecture + weights)"),
        ModelFormat("tensorflow_hdf5.weights.h5", "keras", False, "Keras HDF5 weights only"),
        ModelFormat("tensorflow_saved_model", "keras", True, "TensorFlow SavedModel directory"),
        ModelFormat("pytorch_model.pth", "torch", False, "PyTorch state dict"),
        ModelFormat("pytorch_full_model.pth", "torch", False, "complete pickled PyTorch module"),
        ModelFormat("pytorch_jitted_model.pt", "torch", False, "TorchScript module"),
    )
}

DEFAULT_FORMAT = "tensorflow_model.keras"


def get_format(name: str) -> ModelFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise TrainingError("UNKNOWN_FORMAT", f"unknown model format {name!r}; one of: {', '.join(FORMATS)}") from None
