"""Hyperparameters shared by both frameworks."""

from dataclasses import dataclass

from training.errors import TrainingError


@dataclass(frozen=True)
class TrainParams:
    epochs: int = 1
    batch_size: int = 64
    learning_rate: float = 1e-3
    seed: int = 42

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not self.learning_rate > 0:
            raise TrainingError("BAD_PARAMETER", f"epochs and batch-size must be >= 1 and learning-rate > 0: {self}")
