"""The one training loop of the course: any torch scheduler, stepped when it expects to be.

    >>> history = train(("StepLR", {"step_size": 5, "gamma": 0.5}), epochs=10, progress=False)
    >>> history.val_acc[-1]           # doctest: +SKIP
    0.97...

Each optimizer step runs, in this order::

    lr_used = [group["lr"] for group in optimizer.param_groups]   # recorded
    loss = cross_entropy(model(x), y); loss.backward(); optimizer.step()
    scheduler.step()                     # only for schedulers stepped per batch

and after each epoch the model is evaluated on the validation split, then::

    scheduler.step()                     # schedulers stepped per epoch
    scheduler.step(val_loss)             # ReduceLROnPlateau: it needs the validation metric

Which is which (``step_on="auto"``): OneCycleLR and CyclicLR are defined in batches (their
``total_steps`` / ``step_size_up`` count optimizer steps), so they step per batch; so do the
modern recipes named ``"WarmupCosine"``, ``"WarmupStableDecay"`` and ``"InverseSqrt"``.
ReduceLROnPlateau steps per epoch with the validation loss (or accuracy, ``plateau_metric``).
Every other scheduler steps per epoch, as torch's documentation writes its examples.  Pass
``step_on="batch"`` or ``"epoch"`` to choose yourself (a factory-built ``LambdaLR`` whose
function counts batches needs ``step_on="batch"``).
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch
from torch.nn import functional as F
from torch.optim import Optimizer, lr_scheduler

from ..reference import make_scheduler as _torch_scheduler
from ..schedules import modern
from .checkpoints import load_checkpoint, save_checkpoint
from .data import accuracy, make_loaders, make_model, one_thread

__all__ = ["TrainConfig", "History", "Trainer", "train", "build_scheduler", "step_unit",
           "resume_in_fresh_process", "PER_BATCH", "RECIPES"]

#: Scheduler spec: None (constant rate), a name, ``(name, kwargs)``, or ``factory(optimizer)``.
SchedulerSpec = Union[None, str, tuple, Callable[[Optimizer], Any]]

#: torch schedulers whose parameters count optimizer steps (batches), not epochs.
PER_BATCH = frozenset({"OneCycleLR", "CyclicLR"})

#: The modern recipes by name (built as LambdaLR; they count optimizer steps).
RECIPES: dict[str, Callable[..., lr_scheduler.LambdaLR]] = {
    "WarmupCosine": modern.warmup_cosine_scheduler,
    "WarmupStableDecay": modern.warmup_stable_decay_scheduler,
    "InverseSqrt": modern.inverse_sqrt_scheduler,
}

OPTIMIZERS = ("SGD", "Adam", "AdamW")


def _split_spec(spec: SchedulerSpec) -> tuple[str | None, dict]:
    if spec is None or callable(spec):
        return None, {}
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        return spec[0], dict(spec[1])
    raise TypeError(
        "scheduler must be None, a name such as 'StepLR', a pair ('StepLR', {'step_size': 5}) "
        f"or a function optimizer -> scheduler, got {spec!r}")


def build_scheduler(spec: SchedulerSpec, optimizer: Optimizer):
    """The scheduler ``spec`` describes, built on ``optimizer`` (None for a constant rate)."""
    if callable(spec):
        return spec(optimizer)
    name, kwargs = _split_spec(spec)
    if name is None or name == "Constant":
        return None
    if name in RECIPES:
        return RECIPES[name](optimizer, **kwargs)
    return _torch_scheduler(name, optimizer, **kwargs)


def step_unit(scheduler, spec: SchedulerSpec = None) -> str | None:
    """``"batch"``, ``"epoch"``, ``"plateau"`` (per epoch, with the metric) or None."""
    if scheduler is None:
        return None
    if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
        return "plateau"
    name, _ = _split_spec(spec)
    if name in RECIPES:
        return "batch"
    members = getattr(scheduler, "_schedulers", None)  # SequentialLR, ChainedScheduler
    if members and any(step_unit(m) == "batch" for m in members):
        return "batch"
    if isinstance(scheduler, (lr_scheduler.OneCycleLR, lr_scheduler.CyclicLR)):
        return "batch"
    return "epoch"


@dataclass
class TrainConfig:
    """Everything that determines a run; the same config and seed give the same numbers."""

    scheduler: SchedulerSpec = None
    epochs: int = 10
    lr: float = 0.05
    optimizer: str | Callable[..., Optimizer] = "SGD"
    momentum: float = 0.9
    weight_decay: float = 0.0
    batch_size: int = 64
    hidden: int = 64
    seed: int = 0
    step_on: str = "auto"
    plateau_metric: str = "val_loss"

    def __post_init__(self):
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr must be a number > 0, got {self.lr!r}")
        if self.step_on not in ("auto", "batch", "epoch"):
            raise ValueError(f"step_on must be 'auto', 'batch' or 'epoch', got {self.step_on!r}")
        if self.plateau_metric not in ("val_loss", "val_acc"):
            raise ValueError(
                f"plateau_metric must be 'val_loss' or 'val_acc', got {self.plateau_metric!r}")
        if isinstance(self.optimizer, str) and self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS} or a function "
                             f"(model, lr) -> optimizer, got {self.optimizer!r}")
        _split_spec(self.scheduler)

    def make_optimizer(self, model: torch.nn.Module) -> Optimizer:
        """The optimizer by name, or ``optimizer(model, lr)`` (for parameter groups)."""
        params = model.parameters()
        if callable(self.optimizer):
            return self.optimizer(model, self.lr)
        if self.optimizer == "SGD":
            return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum,
                                   weight_decay=self.weight_decay)
        cls = getattr(torch.optim, self.optimizer)
        return cls(params, lr=self.lr, weight_decay=self.weight_decay)

    def portable(self) -> dict:
        """The config as plain data for a checkpoint (functions cannot be saved: None)."""
        out = dataclasses.asdict(self)
        for key in ("scheduler", "optimizer"):
            if callable(out[key]):
                out[key] = None
        return out


@dataclass
class History:
    """What a run recorded.  Per optimizer step: ``lr`` (group 0), ``group_lrs`` (every group),
    ``loss`` and ``acc`` of the batch.  Per epoch: ``train_loss``/``train_acc`` (means over the
    epoch's batches), ``val_loss``/``val_acc``.  ``steps_per_epoch`` converts between them."""

    steps_per_epoch: int = 0
    lr: list[float] = field(default_factory=list)
    group_lrs: list[list[float]] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    acc: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.val_loss)

    def array(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self, name), dtype=np.float64)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> History:
        return cls(**{k: (list(v) if isinstance(v, list) else v) for k, v in data.items()})


class Trainer:
    """Model, optimizer, scheduler and data of one run, trained epoch by epoch.

    ``Trainer(config).run()`` trains all epochs; ``run(until=k)`` stops after epoch ``k`` so a
    checkpoint can be taken with :meth:`save`; :meth:`resume` rebuilds a trainer from that file
    (in any process) and ``run()`` carries on exactly where it stopped.
    """

    def __init__(self, config: TrainConfig):
        self.config = config
        self.train_loader, self.val_loader = make_loaders(config.batch_size, seed=config.seed)
        self.model = make_model(config.seed, config.hidden)
        self.optimizer = config.make_optimizer(self.model)
        self.scheduler = build_scheduler(config.scheduler, self.optimizer)
        auto = step_unit(self.scheduler, config.scheduler)
        if auto == "plateau" or auto is None or config.step_on == "auto":
            self.unit = auto
        else:
            self.unit = config.step_on
        self.history = History(steps_per_epoch=len(self.train_loader))
        self.epoch = 0  # epochs completed

    # -- the loop ---------------------------------------------------------------------------

    def run(self, until: int | None = None, *, progress: bool = True,
            desc: str | None = None) -> History:
        """Train up to epoch ``until`` (default: all ``config.epochs``) and return the history."""
        from tqdm.auto import tqdm

        until = self.config.epochs if until is None else until
        if not self.epoch <= until <= self.config.epochs:
            raise ValueError(f"until must be between the epochs done ({self.epoch}) and "
                             f"config.epochs ({self.config.epochs}), got {until}")
        spe = self.history.steps_per_epoch
        bar = tqdm(total=until * spe, initial=self.epoch * spe, disable=not progress,
                   desc=desc or _describe(self.config.scheduler), unit="step", leave=True)
        with bar, one_thread():
            while self.epoch < until:
                self._train_epoch(bar)
                val_loss, val_acc = self.evaluate()
                self.history.val_loss.append(val_loss)
                self.history.val_acc.append(val_acc)
                if self.unit == "epoch":
                    self.scheduler.step()
                elif self.unit == "plateau":
                    self.scheduler.step(val_loss if self.config.plateau_metric == "val_loss"
                                        else val_acc)
                self.epoch += 1
                bar.set_postfix(val_loss=f"{val_loss:.3f}", val_acc=f"{val_acc:.3f}")
        return self.history

    def _train_epoch(self, bar) -> None:
        model, optimizer, h = self.model, self.optimizer, self.history
        model.train()
        losses, accs = [], []
        for x, y in self.train_loader:
            lrs = [float(group["lr"]) for group in optimizer.param_groups]
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()
            if self.unit == "batch":
                self.scheduler.step()
            h.lr.append(lrs[0])
            h.group_lrs.append(lrs)
            losses.append(loss.item())
            accs.append(accuracy(logits, y))
            bar.update(1)
        h.loss.extend(losses)
        h.acc.extend(accs)
        h.train_loss.append(float(np.mean(losses)))
        h.train_acc.append(float(np.mean(accs)))

    @torch.no_grad()
    def evaluate(self) -> tuple[float, float]:
        """Validation loss and accuracy of the current model."""
        self.model.eval()
        total, correct, n = 0.0, 0, 0
        for x, y in self.val_loader:
            logits = self.model(x)
            total += float(F.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(dim=1) == y).sum())
            n += len(y)
        return total / n, correct / n

    # -- checkpoints ------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Model, optimizer, scheduler, the data order's RNG, history and config, in one file.

        The file is read back at once with ``torch.load(weights_only=True)`` (what
        :meth:`resume` does): a state that only full unpickling could restore, such as a NumPy
        number in the optimizer's ``lr`` (an ``lr_lambda`` returning ``np.cos(...)``), raises a
        ``ValueError`` naming the entry now, not when the run is resumed.
        """
        save_checkpoint(
            path, model=self.model, optimizer=self.optimizer, scheduler=self.scheduler,
            epoch=self.epoch, history=self.history.as_dict(), config=self.config.portable(),
            data_rng=self.train_loader.generator.get_state(),
        )
        try:
            torch.load(path, weights_only=True)
        except pickle.UnpicklingError as err:
            states = {"optimizer": self.optimizer.state_dict(),
                      "scheduler": None if self.scheduler is None else self.scheduler.state_dict()}
            where = _first_unplain(states)
            found = (f"{where[0]} holds a {type(where[1]).__module__}.{type(where[1]).__name__} "
                     f"({where[1]!r})" if where else "it holds an object torch will not load")
            raise ValueError(
                f"checkpoint {path} cannot be loaded with torch.load(weights_only=True), so it "
                f"could not be resumed: {found}. A common cause is an lr_lambda that returns a "
                "NumPy number (np.cos(...)): return a Python float, float(...), or use math. "
                f"torch said: {_unpickler_reason(err)}") from None

    @classmethod
    def resume(cls, path: str | Path, **overrides: Any) -> Trainer:
        """The trainer :meth:`save` wrote, ready to ``run()`` on from the epoch it stopped at.

        A scheduler or optimizer given as a function is not stored in the file: pass the same
        one again (``scheduler=...``, ``optimizer=...``).  The model, optimizer and scheduler are
        first built as for a fresh run (so every parameter group gets its ``initial_lr``), then
        their saved states are loaded over them.
        """
        saved = torch.load(path, weights_only=True)
        config = dict(saved["config"])
        if isinstance(config["scheduler"], list):  # a ("Name", kwargs) pair comes back a list
            config["scheduler"] = tuple(config["scheduler"])
        config.update(overrides)
        if config["optimizer"] is None:
            raise ValueError("this checkpoint was made with an optimizer function: pass it "
                             "again, Trainer.resume(path, optimizer=...)")
        if saved["scheduler"] is not None and config["scheduler"] is None:
            raise ValueError("this checkpoint was made with a scheduler function: pass it "
                             "again, Trainer.resume(path, scheduler=...)")
        trainer = cls(TrainConfig(**config))
        load_checkpoint(path, model=trainer.model, optimizer=trainer.optimizer,
                        scheduler=trainer.scheduler)
        trainer.train_loader.generator.set_state(saved["data_rng"])
        trainer.history = History.from_dict(saved["history"])
        trainer.epoch = saved["epoch"]
        return trainer


_RESUME = """
import json, sys
from lrcourse.training import Trainer
history = Trainer.resume(sys.argv[1]).run(progress=False)
json.dump(history.as_dict(), open(sys.argv[2], "w"))
"""


def resume_in_fresh_process(path: str | Path) -> History:
    """Resume the checkpoint at ``path`` in a new Python process, run it to the end, and return
    that process's history: nothing of the current process (imports, random state, objects)
    can leak into the resumed run."""
    import json
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "history.json"
        subprocess.run([sys.executable, "-c", _RESUME, str(path), str(out)], check=True)
        return History.from_dict(json.loads(out.read_text()))


_PLAIN = (bool, int, float, complex, str, bytes, type(None), torch.dtype, torch.device)


def _unpickler_reason(err: Exception) -> str:
    """The line of torch's long weights_only message that names what it refused."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    named = [line for line in lines if "WeightsUnpickler error" in line]
    return (named or lines or ["(no message)"])[0]


def _first_unplain(obj: Any, where: str = "") -> tuple[str, Any] | None:
    """The first value inside ``obj`` (dicts, lists, tuples) that is not plain data, with where
    it sits (``optimizer['param_groups'][1]['lr']``), or None."""
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    else:
        # exact types: numpy.float64 is a subclass of float, and torch refuses it
        plain = type(obj) in _PLAIN or isinstance(obj, torch.Tensor)
        return None if plain else (where, obj)
    for key, value in items:
        found = _first_unplain(value, f"{where}[{key!r}]" if where else str(key))
        if found:
            return found
    return None


def _describe(spec: SchedulerSpec) -> str:
    if callable(spec):
        return getattr(spec, "__name__", "scheduler")
    name, _ = _split_spec(spec)
    return name or "constant"


def train(scheduler: SchedulerSpec = None, *, progress: bool = True, desc: str | None = None,
          **config: Any) -> History:
    """Train the digits MLP under ``scheduler`` and return the :class:`History`.

    ``scheduler`` is None (constant rate), a torch scheduler's name, ``(name, kwargs)`` with
    torch's keyword arguments, one of the modern recipes by name, or a function
    ``optimizer -> scheduler``.  ``config`` sets the other :class:`TrainConfig` fields
    (``epochs``, ``lr``, ``seed``, ``batch_size``, ``optimizer``, ``step_on``, ...).
    """
    return Trainer(TrainConfig(scheduler=scheduler, **config)).run(progress=progress, desc=desc)
