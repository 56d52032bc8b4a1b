r"""Lesson 18: one learning rate per layer, decaying from the top of the network down.

Layer-wise rate decay gives the top (last) of :math:`L` layers the rate :math:`\eta` and each
layer below it :math:`\xi` times the rate of the layer above:

.. math::  \eta_l = \eta\, \xi^{\,L-1-l}, \qquad l = 0, \dots, L-1

ULMFiT's discriminative fine-tuning (Howard & Ruder 2018) used :math:`\xi = 1/2.6`; layer-wise
decay for BERT fine-tuning (e.g. Sun et al. 2019) values like 0.95.  In torch each layer is a
parameter group with its own ``lr``; a scheduler then drives every group from its own rate.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["layer_rates", "layerwise_groups", "linear_layers", "deep_mlp"]


def layer_rates(n_layers: int, lr: float, decay: float) -> list[float]:
    """``[lr * decay**(n_layers - 1 - l) for l in range(n_layers)]``: bottom layer first."""
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1, got {n_layers!r}")
    if not 0 < decay <= 1:
        raise ValueError(f"decay must be in (0, 1], got {decay!r}")
    return [lr * decay ** (n_layers - 1 - layer) for layer in range(n_layers)]


def layerwise_groups(layers: Sequence[nn.Module], lr: float, decay: float) -> list[dict]:
    """Parameter groups for a torch optimizer, one per layer (bottom first), with
    :func:`layer_rates`: ``torch.optim.AdamW(layerwise_groups(layers, 1e-3, 0.8))``."""
    return [{"params": list(layer.parameters()), "lr": rate}
            for layer, rate in zip(layers, layer_rates(len(layers), lr, decay))]


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The ``nn.Linear`` layers of ``model``, input side first."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def deep_mlp(seed: int = 0, width: int = 64, depth: int = 4) -> nn.Sequential:
    """A digits-sized MLP with ``depth`` linear layers (64 -> width -> ... -> 10)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        sizes = [64] + [width] * (depth - 1) + [10]
        modules: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            modules.append(nn.Linear(a, b))
            if i < depth - 1:
                modules.append(nn.ReLU())
        return nn.Sequential(*modules)
