"""Picks the accelerator each framework trains on, falling back to CPU, and logs the choice.

PyTorch: CUDA when available. TensorFlow: TPUStrategy when a TPU is attached (GKE TPU node
pools expose /dev/accel* or /dev/vfio devices and TPU_* variables), MirroredStrategy over the
visible GPUs, else the default (CPU) strategy. PyTorch on TPU would need torch_xla, which
this image does not carry: it trains on CPU there and says so.
"""

import glob
import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf
    import torch

log = logging.getLogger(__name__)

_TPU_ENV = ("TPU_ACCELERATOR_TYPE", "TPU_WORKER_ID", "TPU_WORKER_HOSTNAMES", "TPU_NAME")


def tpu_attached() -> bool:
    return any(os.environ.get(v) for v in _TPU_ENV) or bool(glob.glob("/dev/accel*") or glob.glob("/dev/vfio/[0-9]*"))


def torch_device() -> "torch.device":
    import torch

    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        log.info("accelerator: CUDA (%d device(s), using %s)", count, torch.cuda.get_device_name(0))
        return torch.device("cuda")
    if tpu_attached():
        log.warning("accelerator: a TPU is attached but PyTorch needs torch_xla for it; training on CPU")
    else:
        log.info("accelerator: none found; PyTorch trains on CPU")
    return torch.device("cpu")


def keras_strategy() -> "tf.distribute.Strategy":
    import tensorflow as tf

    if tpu_attached():
        strategy = _tpu_strategy()
        if strategy is not None:
            return strategy
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        log.info("accelerator: %d GPU(s); TensorFlow MirroredStrategy", len(gpus))
        return tf.distribute.MirroredStrategy()
    log.info("accelerator: none found; TensorFlow trains on CPU")
    return tf.distribute.get_strategy()


def _tpu_strategy() -> "tf.distribute.Strategy | None":
    import tensorflow as tf

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        strategy = tf.distribute.TPUStrategy(resolver)
    except Exception as err:  # a TPU that cannot be initialised should not stop a CPU fallback
        log.warning("accelerator: TPU attached but TensorFlow cannot use it (%s); falling back", err)
        return None
    log.info("accelerator: TPU (%d replica(s)); TensorFlow TPUStrategy", strategy.num_replicas_in_sync)
    return strategy
