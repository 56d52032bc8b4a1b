"""The data and the model every training lesson uses: scikit-learn's digits and a small MLP.

``load_digits`` ships with scikit-learn (1,797 8x8 grey-scale images of the digits 0-9), so
nothing is downloaded.  The split is stratified and seeded; each pixel is centred on its training
mean and all are divided by one overall standard deviation.  A two-layer MLP on them trains in
well under a second per epoch on one CPU core.
"""

from __future__ import annotations

import contextlib
import functools

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

__all__ = ["digits", "make_loaders", "make_model", "steps_per_epoch"]

N_FEATURES = 64
N_CLASSES = 10


@functools.lru_cache(maxsize=8)
def _split(val_fraction: float, split_seed: int):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=val_fraction, stratify=y, random_state=split_seed)
    # Centre each pixel, but scale all by one number: a per-pixel std would blow up the pixels
    # that are (almost) always 0 in the training split and not in the validation split.
    mean, scale = X_train.mean(axis=0), X_train.std()
    to_x = lambda a: torch.tensor((a - mean) / scale, dtype=torch.float32)  # noqa: E731
    to_y = lambda a: torch.tensor(a, dtype=torch.int64)  # noqa: E731
    return to_x(X_train), to_y(y_train), to_x(X_val), to_y(y_val)


def digits(val_fraction: float = 0.25, split_seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
    """``(train, validation)`` datasets of scaled digits (64 features, labels 0-9)."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    X_train, y_train, X_val, y_val = _split(float(val_fraction), int(split_seed))
    return TensorDataset(X_train, y_train), TensorDataset(X_val, y_val)


def make_loaders(batch_size: int = 64, *, seed: int = 0, val_fraction: float = 0.25,
                 split_seed: int = 0) -> tuple[DataLoader, DataLoader]:
    """Shuffled training batches (last incomplete batch dropped) and validation batches.

    The training loader shuffles with its own ``torch.Generator`` seeded with ``seed``, so the
    order of the batches depends on ``seed`` only, never on the global random state; saving
    ``loader.generator.get_state()`` in a checkpoint lets a resumed run see the same batches.
    """
    train, val = digits(val_fraction, split_seed)
    if not 1 <= batch_size <= len(train):
        raise ValueError(f"batch_size must be between 1 and {len(train)}, got {batch_size!r}")
    generator = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True, drop_last=True,
                              generator=generator)
    val_loader = DataLoader(val, batch_size=512)
    return train_loader, val_loader


def steps_per_epoch(batch_size: int = 64, val_fraction: float = 0.25) -> int:
    """Optimizer steps in one epoch: what OneCycleLR's ``steps_per_epoch`` needs."""
    train, _ = digits(val_fraction)
    return len(train) // batch_size


def make_model(seed: int = 0, hidden: int = 64) -> nn.Sequential:
    """64 -> ``hidden`` -> 10 MLP with ReLU, initialised from ``seed`` (global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Linear(N_FEATURES, hidden),
            nn.ReLU(),
            nn.Linear(hidden, N_CLASSES),
        )


@contextlib.contextmanager
def one_thread():
    """Run torch on one CPU thread, then restore the previous setting.

    The model is tiny: with several threads torch spends its time synchronising them, which
    on a shared 2-core machine makes training 10x slower.  One thread also makes the numbers
    independent of the machine's core count.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    return (logits.argmax(dim=1) == y).float().mean().item()
