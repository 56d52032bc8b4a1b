r"""Lesson 18: AdamW's decoupled weight decay is multiplied by the scheduled rate.

torch's AdamW (``Adam(..., decoupled_weight_decay=True)``) first shrinks each parameter, then
takes Adam's step, both with the group's *current* rate :math:`\eta_t`:

.. math::

    p \leftarrow p\,(1 - \eta_t\lambda) - \eta_t\,\frac{\hat m_t}{\sqrt{\hat v_t}+\epsilon}

so the decay term is :math:`\eta_t\lambda p`: a scheduler that lowers the rate lowers the decay
with it.  :func:`decay_terms` measures that term in torch by stepping, from the same state and
with the same gradient, a twin optimizer whose ``weight_decay`` is 0; :func:`zero_gradient_path`
shows the decay alone; :func:`first_step` contrasts Adam's coupled ``weight_decay`` (an L2 term
added to the gradient, which Adam then normalises).
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from lrcourse.reference import make_scheduler

__all__ = ["decay_terms", "zero_gradient_path", "first_step"]


def decay_terms(steps: int, lr: float, weight_decay: float, scheduler: tuple[str, dict], *,
                size: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """AdamW on ``sum((p - target)**2)`` under ``scheduler`` for ``steps`` steps.

    Returns ``lr`` (the rate of each step, shape ``(steps,)``), ``before`` (the parameter
    before each step, ``(steps, size)``) and ``decay``: how much further the real step moved
    the parameter than the same step with ``weight_decay=0`` from the same state.
    """
    gen = torch.Generator().manual_seed(seed)
    p = torch.randn(size, generator=gen, dtype=torch.float64).requires_grad_()
    target = torch.randn(size, generator=gen, dtype=torch.float64)
    opt = torch.optim.AdamW([p], lr=lr, weight_decay=weight_decay)
    sched = make_scheduler(scheduler[0], opt, **scheduler[1])
    rates, before, decay = np.empty(steps), np.empty((steps, size)), np.empty((steps, size))
    for k in range(steps):
        opt.zero_grad()
        ((p - target) ** 2).sum().backward()
        twin = p.detach().clone().requires_grad_()
        twin.grad = p.grad.clone()
        twin_opt = torch.optim.AdamW([twin], lr=lr)
        twin_opt.load_state_dict(copy.deepcopy(opt.state_dict()))  # same moments, step, lr
        twin_opt.param_groups[0]["weight_decay"] = 0.0
        rates[k] = opt.param_groups[0]["lr"]
        before[k] = p.detach().numpy()
        opt.step()
        twin_opt.step()
        decay[k] = (twin.detach() - p.detach()).numpy()
        sched.step()
    return {"lr": rates, "before": before, "decay": decay}


def zero_gradient_path(steps: int, lr: float, weight_decay: float, scheduler: tuple[str, dict],
                       p0: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A parameter whose loss gradient is 0, under AdamW and ``scheduler``: the rate of each
    step and the parameter after it.  Adam's own step is 0 here, so only the decay acts."""
    p = torch.tensor([p0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.AdamW([p], lr=lr, weight_decay=weight_decay)
    sched = make_scheduler(scheduler[0], opt, **scheduler[1])
    rates, path = np.empty(steps), np.empty(steps)
    for k in range(steps):
        p.grad = torch.zeros_like(p)
        rates[k] = opt.param_groups[0]["lr"]
        opt.step()
        path[k] = float(p.detach())
        sched.step()
    return rates, path


def first_step(optimizer: str, lr: float, weight_decay: float, p0: float = 1.0) -> float:
    """How far the first step of ``torch.optim.<optimizer>`` moves a parameter at ``p0`` whose
    loss gradient is 0 (positive: towards 0)."""
    p = torch.tensor([p0], dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, optimizer)([p], lr=lr, weight_decay=weight_decay)
    p.grad = torch.zeros_like(p)
    opt.step()
    return p0 - float(p.detach())
