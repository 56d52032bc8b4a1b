"""What single lessons stand on: small helpers that serve one notebook each.

The library's layers (``schedules``, ``reference``, ``plots``, ``widgets``, ``checks``,
``release``, ``grading``, ``training``) never import from here; lessons import from both.

    compare      one-line "compare with PyTorch" and "check the claim" helpers (every lesson)
    quadratic    SGD on a noisy 2-D bowl (lesson 00: what a learning rate does; 04, 05 reuse it)
    synthetic    a simulated validation loss with a plateau you can move (lesson 07)
    chaining     ready-made SequentialLR / ChainedScheduler members (lessons 08, 09)
    toyloop      a visible eight-line training loop on a toy problem (lesson 09)
    cheatsheet   one representative setting of every scheduler (lesson 10)
    training_runs  figures that merge identical runs, the range test's smoothing explorer,
                 an optimizer's first step, resuming in two orders (lessons 11-14)
    subclassing  how torch's own schedulers compute a rate, measured (lesson 15)
    libraries    torch-class recipes for transformers' schedules, library comparisons (lesson 16)
    swa          the SWA recipe compared over seeds, SWALR's two tempting loops (lesson 17)
    momentum     SGD's step on a steady gradient, closed form and torch (lesson 18)
    batchsize    the batch-size scaling rules and their measured spread (lesson 18)
    weight_decay AdamW's decay term under a scheduler, Adam's coupled decay (lesson 18)
    layerwise    layer-wise rate decay as parameter groups (lesson 18)

The compare helpers are re-exported, so a lesson writes
``from lrcourse.lessons import agree_with_torch, lr_table, side_by_side``.
"""

from .compare import agree_with_torch, first_steps, lr_table, side_by_side

__all__ = ["agree_with_torch", "side_by_side", "lr_table", "first_steps"]
