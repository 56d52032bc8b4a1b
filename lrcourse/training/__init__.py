"""The course's training harness: digits, a small MLP, any torch scheduler, CPU, seconds.

=====================  ======================================================================
module                 what it holds
=====================  ======================================================================
:mod:`.data`           ``digits()``, ``make_loaders()``, ``make_model()`` (seeded, no download)
:mod:`.loop`           ``train()``, ``Trainer``, ``TrainConfig``, ``History``: the loop, stepping
                       each scheduler per batch or per epoch as it expects
:mod:`.lr_finder`      ``find_lr()``: Leslie Smith's learning-rate range test
:mod:`.checkpoints`    ``save_checkpoint()``, ``load_checkpoint()``: stop, resume exactly
:mod:`.compare`        several schedules over several seeds: ``compare()``, ``summarize()``
=====================  ======================================================================
"""

from .checkpoints import load_checkpoint, resume_methods, save_checkpoint
from .compare import (
    compare, mean_curve, metric_figure, paired_difference, summarize, table, verdicts,
)
from .data import digits, make_loaders, make_model, steps_per_epoch
from .loop import (
    PER_BATCH, RECIPES, History, TrainConfig, Trainer, build_scheduler, resume_in_fresh_process,
    step_unit, train,
)
from .lr_finder import LRFinderResult, LRRangeTestDiverged, find_lr, smooth

__all__ = [
    "digits", "make_loaders", "make_model", "steps_per_epoch",
    "train", "Trainer", "TrainConfig", "History", "build_scheduler", "step_unit",
    "PER_BATCH", "RECIPES", "find_lr", "smooth", "LRFinderResult", "LRRangeTestDiverged",
    "save_checkpoint", "load_checkpoint", "resume_methods", "resume_in_fresh_process", "compare", "summarize", "table", "paired_difference",
    "verdicts", "mean_curve", "metric_figure",
]
