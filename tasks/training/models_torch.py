"""The PyTorch network, its training loop, and its three save formats."""

import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from training.accelerator import torch_device
from training.cifar import NUM_CLASSES, Cifar10
from training.params import TrainParams

log = logging.getLogger(__name__)


class SmallCnn(nn.Module):
    """Two conv blocks and two dense layers: small enough to train for one step in a test."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 8 * 8, 64), nn.ReLU(), nn.Linear(64, NUM_CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """NHWC float images (the loader's layout) to the NCHW tensor PyTorch convolutions take."""
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


def train(data: Cifar10, params: TrainParams) -> SmallCnn:
    torch.manual_seed(params.seed)
    device = torch_device()
    model = SmallCnn().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=params.learning_rate)
    loss_fn = nn.CrossEntropyLoss()
    x, y = to_tensor(data.x_train), torch.from_numpy(data.y_train)
    rng = np.random.default_rng(params.seed)
    model.train()
    for epoch in range(params.epochs):
        order = torch.from_numpy(rng.permutation(len(x)))
        for start in range(0, len(x), params.batch_size):
            batch = order[start : start + params.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x[batch].to(device)), y[batch].to(device))
            loss.backward()
            optimizer.step()
        log.info("epoch %d/%d: last batch loss %.4f", epoch + 1, params.epochs, loss.item())
    model = model.cpu().eval()
    log.info("test accuracy %.4f", accuracy(model, data))
    return model


@torch.no_grad()
def predict(model: nn.Module, images: np.ndarray) -> np.ndarray:
    return model(to_tensor(images)).numpy()


def accuracy(model: nn.Module, data: Cifar10) -> float:
    return float((predict(model, data.x_test).argmax(axis=1) == data.y_test).mean())


def save(model: SmallCnn, format_name: str, path: Path) -> None:
    if format_name == "pytorch_model.pth":
        torch.save(model.state_dict(), path)
    elif format_name == "pytorch_full_model.pth":
        # Loading needs this package importable (torch.load(..., weights_only=False)).
        torch.save(model, path)
    elif format_name == "pytorch_jitted_model.pt":
        torch.jit.save(torch.jit.script(model), str(path))
    else:
        raise ValueError(f"not a PyTorch format: {format_name}")
