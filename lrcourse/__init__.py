"""lrcourse: learning-rate schedulers in PyTorch, taught with closed forms checked against torch.

    >>> from lrcourse import lr_curve
    >>> lr_curve("StepLR", 4, 0.05, step_size=2, gamma=0.1)
    array([0.05 , 0.05 , 0.005, 0.005])
"""

from .schedules import SCHEDULES, TORCH_SCHEDULERS, lr_curve, momentum_curve, schedule


def __getattr__(name: str):
    # find_lr needs torch; importing it only when asked keeps `import lrcourse` (and the
    # closed forms) free of torch's start-up time.
    if name == "find_lr":
        from .training.lr_finder import find_lr

        return find_lr
    raise AttributeError(f"module 'lrcourse' has no attribute {name!r}")


__all__ = ["SCHEDULES", "TORCH_SCHEDULERS", "lr_curve", "momentum_curve", "schedule", "find_lr"]
__version__ = "0.1.0"
