"""The Keras (TensorFlow backend) network, its training, and its four save formats."""

import logging
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

import keras  # noqa: E402 - the backend must be chosen before the import

from training.accelerator import keras_strategy  # noqa: E402
from training.cifar import IMAGE_SHAPE, NUM_CLASSES, Cifar10  # noqa: E402
from training.params import TrainParams  # noqa: E402

log = logging.getLogger(__name__)


def build_model() -> keras.Model:
    """Same shape as the PyTorch SmallCnn; outputs logits."""
    return keras.Sequential(
        [
            keras.Input(shape=IMAGE_SHAPE),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(NUM_CLASSES),
        ],
        name="small_cnn",
    )


def train(data: Cifar10, params: TrainParams) -> keras.Model:
    keras.utils.set_random_seed(params.seed)
    strategy = keras_strategy()
    with strategy.scope():
        model = build_model()
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=params.learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    model.fit(data.x_train, data.y_train, epochs=params.epochs, batch_size=params.batch_size, shuffle=True, verbose=2)
    _, acc = model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)
    log.info("test accuracy %.4f", acc)
    return model


def predict(model: keras.Model, images: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(images, verbose=0))


def save(model: keras.Model, format_name: str, path: Path) -> None:
    if format_name in ("tensorflow_model.keras", "tensorflow_hdf5_model.h5"):
        model.save(path)  # the suffix selects the Keras v3 zip or the legacy HDF5 writer
    elif format_name == "tensorflow_hdf5.weights.h5":
        model.save_weights(path)
    elif format_name == "tensorflow_saved_model":
        model.export(str(path), format="tf_saved_model", verbose=False)
    else:
        raise ValueError(f"not a Keras format: {format_name}")
