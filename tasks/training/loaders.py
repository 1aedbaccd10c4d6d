"""Loads a saved model with its framework's own loader, as a consumer of that format would.

Each loader returns a function from NHWC float images to logits. `pytorch_full_model.pth` is a
pickle: loading it runs code from the file, so only load one this pipeline wrote itself (the
evaluate Task reads the model the train Task left in the same workspace, and checks its digest
against the one the train Task reported before loading it).
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np

from training.formats import ModelFormat

Predictor = Callable[[np.ndarray], np.ndarray]


def _torch_state_dict(path: Path) -> Predictor:
    import torch

    from training.models_torch import SmallCnn, predict

    model = SmallCnn()
    model.load_state_dict(torch.load(path, weights_only=True))
    return lambda x: predict(model.eval(), x)


def _torch_full(path: Path) -> Predictor:
    import torch

    from training.models_torch import predict

    model = torch.load(path, weights_only=False)
    return lambda x: predict(model.eval(), x)


def _torch_jit(path: Path) -> Predictor:
    import torch

    from training.models_torch import predict

    model = torch.jit.load(str(path))
    return lambda x: predict(model.eval(), x)


def _keras_model(path: Path) -> Predictor:
    import keras

    from training.models_keras import predict

    model = keras.models.load_model(path)
    return lambda x: predict(model, x)


def _keras_weights(path: Path) -> Predictor:
    from training.models_keras import build_model, predict

    model = build_model()
    model.load_weights(path)
    return lambda x: predict(model, x)


def _saved_model(path: Path) -> Predictor:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    return lambda x: np.asarray(loaded.serve(tf.constant(x)))


_LOADERS: dict[str, Callable[[Path], Predictor]] = {
    "pytorch_model.pth": _torch_state_dict,
    "pytorch_full_model.pth": _torch_full,
    "pytorch_jitted_model.pt": _torch_jit,
    "tensorflow_model.keras": _keras_model,
    "tensorflow_hdf5_model.h5": _keras_model,
    "tensorflow_hdf5.weights.h5": _keras_weights,
    "tensorflow_saved_model": _saved_model,
}


def load_predictor(fmt: ModelFormat, path: Path) -> Predictor:
    if fmt.framework == "keras":
        import training.models_keras  # noqa: F401 - chooses the Keras backend before keras is imported

    return _LOADERS[fmt.name](path)


def accuracy(predictor: Predictor, images: np.ndarray, labels: np.ndarray, batch_size: int = 256) -> float:
    correct = 0
    for start in range(0, len(images), batch_size):
        logits = predictor(images[start : start + batch_size])
        correct += int((np.asarray(logits).argmax(axis=1) == labels[start : start + batch_size]).sum())
    return correct / len(images) if len(images) else 0.0
