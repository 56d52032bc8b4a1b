r"""Lesson 18: the step SGD with momentum takes on a steady gradient, in closed form and in torch.

torch's SGD keeps a buffer :math:`b` per parameter (``momentum_buffer``).  With momentum
:math:`\beta`, dampening :math:`d` and gradient :math:`g_t` at step :math:`t = 1, 2, \dots`:

.. math::

    b_1 = g_1, \qquad b_t = \beta\, b_{t-1} + (1-d)\, g_t, \qquad
    p \leftarrow p - \eta\, u_t, \quad u_t = \begin{cases} g_t + \beta\, b_t & \text{nesterov}\\
                                                     b_t & \text{otherwise} \end{cases}

(the first buffer is the gradient itself: dampening applies from the second step on).  On a
steady gradient :math:`g` the buffer is :math:`b_t = \beta^{t-1} g + (1-d)\,g\,
\frac{1-\beta^{t-1}}{1-\beta}`, so the step grows (or, with dampening, shrinks) towards

.. math::  \eta_{\text{eff}}\, g = \frac{\eta\,(1-d)}{1-\beta}\, g

with or without Nesterov; the gap to the limit shrinks by :math:`\beta` each step.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["step_sizes", "torch_step_sizes", "effective_lr", "steps_to_reach"]


def _check(momentum: float, dampening: float, nesterov: bool) -> None:
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1) for a finite limit, got {momentum!r}")
    if nesterov and (momentum <= 0 or dampening != 0):
        # torch's own message (torch.optim.SGD)
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")


def step_sizes(steps: int, lr: float, momentum: float, dampening: float = 0.0,
               nesterov: bool = False, grad: float = 1.0) -> np.ndarray:
    """The distance SGD moves a parameter at steps 1 .. ``steps`` under a constant gradient
    ``grad`` (closed form; see the module docstring)."""
    _check(momentum, dampening, nesterov)
    t = np.arange(1, steps + 1, dtype=np.float64)
    if momentum == 0.0:
        buffer = np.full(steps, float(grad))
    else:
        past = momentum ** (t - 1)
        buffer = past * grad + (1.0 - dampening) * grad * (1.0 - past) / (1.0 - momentum)
    update = grad + momentum * buffer if nesterov else buffer
    return lr * update


def torch_step_sizes(steps: int, lr: float, momentum: float, dampening: float = 0.0,
                     nesterov: bool = False, grad: float = 1.0) -> np.ndarray:
    """The same distances measured from ``torch.optim.SGD`` (float64), one step at a time."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum, dampening=dampening,
                          nesterov=nesterov)
    out = np.empty(steps)
    for k in range(steps):
        before = float(p.detach())
        opt.zero_grad()
        (grad * p).sum().backward()          # loss g * p: its gradient is g at every step
        opt.step()
        out[k] = before - float(p.detach())
    return out


def effective_lr(lr: float, momentum: float, dampening: float = 0.0) -> float:
    r"""The limit of the step per unit gradient: :math:`\eta\,(1-d)/(1-\beta)`."""
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    return lr * (1.0 - dampening) / (1.0 - momentum)


def steps_to_reach(momentum: float, fraction: float = 0.9) -> int:
    r"""Without dampening, the first step whose size is at least ``fraction`` of the limit:
    the smallest :math:`t` with :math:`1-\beta^t \ge` ``fraction``."""
    if momentum == 0.0:
        return 1
    return math.ceil(math.log(1.0 - fraction) / math.log(momentum) - 1e-12)
