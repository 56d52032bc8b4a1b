"""lrcourse: learning-rate schedulers in PyTorch, taught with closed forms checked against torch.

    >>> from lrcourse import lr_curve
    >>> lr_curve("StepLR", 4, 0.05, step_size=2, gamma=0.1)
    array([0.05 , 0.05 , 0.005, 0.005])
"""

from .schedules import SCHEDULES, TORCH_SCHEDULERS, lr_curve, momentum_curve, schedule
from .training.lr_finder import find_lr  # (imports torch)

__all__ = ["SCHEDULES", "TORCH_SCHEDULERS", "lr_curve", "momentum_curve", "schedule", "find_lr"]
__version__ = "0.1.0"
