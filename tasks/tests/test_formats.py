"""Each of the seven formats: train one step, save, load with the framework's own loader, compare."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from training.cifar import load_cifar10
from training.cli import train_and_save
from training.formats import FORMATS, get_format
from training.loaders import load_predictor
from training.params import TrainParams

ONE_STEP = TrainParams(epochs=1, batch_size=32, learning_rate=1e-3, seed=7)


def _torch_state_dict(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    from training.models_torch import SmallCnn, predict

    model = SmallCnn()
    model.load_state_dict(torch.load(path, weights_only=True))
    return lambda x: predict(model.eval(), x)


def _torch_full(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    from training.models_torch import predict

    model = torch.load(path, weights_only=False)  # a pickled module needs full unpickling
    return lambda x: predict(model.eval(), x)


def _torch_jit(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    from training.models_torch import predict

    model = torch.jit.load(str(path))
    return lambda x: predict(model.eval(), x)


def _keras_model(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    import keras

    from training.models_keras import predict

    model = keras.models.load_model(path)
    return lambda x: predict(model, x)


def _keras_weights(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    from training.models_keras import build_model, predict

    model = build_model()
    model.load_weights(path)
    return lambda x: predict(model, x)


def _saved_model(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    return lambda x: loaded.serve(tf.constant(x)).numpy()


LOADERS: dict[str, Callable[[Path], Callable[[np.ndarray], np.ndarray]]] = {
    "pytorch_model.pth": _torch_state_dict,
    "pytorch_full_model.pth": _torch_full,
    "pytorch_jitted_model.pt": _torch_jit,
    "tensorflow_model.keras": _keras_model,
    "tensorflow_hdf5_model.h5": _keras_model,
    "tensorflow_hdf5.weights.h5": _keras_weights,
    "tensorflow_saved_model": _saved_model,
}


def _in_memory_predict(framework: str, model: object, x: np.ndarray) -> np.ndarray:
    if framework == "torch":
        from training.models_torch import predict
    else:
        from training.models_keras import predict  # type: ignore[no-redef]
    return predict(model, x)


def test_every_format_has_a_loader_here() -> None:
    assert set(LOADERS) == set(FORMATS)


@pytest.mark.parametrize("name", list(FORMATS))
def test_when_saved_in_a_format_its_framework_loads_a_model_that_predicts_the_same(
    name: str, cifar_archive: tuple[Path, str], tmp_path: Path
) -> None:
    fmt = get_format(name)
    model, path = train_and_save(fmt, cifar_archive[0], ONE_STEP, tmp_path)

    assert path == tmp_path / name
    assert path.is_dir() == fmt.directory
    x = load_cifar10(cifar_archive[0]).x_test
    expected = _in_memory_predict(fmt.framework, model, x)
    actual = LOADERS[name](path)(x)
    assert actual.shape == (len(x), 10)
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)
    # The evaluate task's loader (training/loaders.py) reads it the same way.
    np.testing.assert_allclose(load_predictor(fmt, path)(x), expected, rtol=1e-4, atol=1e-5)
