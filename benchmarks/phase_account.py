"""Where a notebook kernel's CPU goes, cell by cell and, inside a cell, phase by phase of the recipe.

`make_run.py` has every kernel it starts load this file (an IPython startup file calls
:func:`install`, so nothing lands in the notebook's namespace). Before each
cell it wraps, once, the recipe's functions named in :data:`PHASES` (nothing in ``helpers/`` changes),
and after the cell it appends one JSON line to ``$SALIENCY_ACCOUNT_FILE``: the cell's first line, its
CPU-seconds (the kernel's and its children's) and wall seconds, and its phases. A phase's time is its
own: a phase inside another (the frozen front end inside the training steps) is taken out of the outer
one, and each is named by its path ("training steps › frozen front end"). The training steps' FLOPs are
counted (``torch.utils.flop_counter``) on the first step of each epoch and scaled by the epoch's images,
so counting costs one step an epoch; a validation pass and the frozen front end are counted whole, and
a phase's FLOPs are its own too (the front end's taken out of the steps that called it).
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import resource
import sys
import time

#: (module, function or Class.method, phase, how it is timed: "call", "call+flops", "batches+flops")
PHASES = [
    ("helpers.training", "train_epoch", "training steps", "call"),
    ("helpers.training", "Training.epoch_batches", "training data (read, decode, collate)", "batches+flops"),
    ("helpers.training", "validate", "validation loss pass", "call+flops"),
    ("helpers.evaluation", "HeldOutScorer.__call__", "held-out scores each epoch (fp32 pass, AUC-Judd)", "call"),
    ("helpers.encoders", "FrozenFeatureMemo.__call__", "frozen front end (each image once)", "call+flops"),
    ("helpers.checkpoints", "Checkpointer.save", "checkpoint writes", "call"),
    ("helpers.baselines", "no_learning_maps", "no-learning maps (settings chosen on validation)", "call"),
    ("helpers.evaluation", "predict_saliency", "networks' maps of the test displays", "call"),
    ("helpers.evaluation", "evaluate", "metrics", "call"),
    ("helpers.plots", "save_figure", "figure files", "call"),
]


def process_clock() -> tuple[float, float]:
    """(CPU-seconds of this process and its ended children, wall seconds)."""
    cpu = sum(usage.ru_utime + usage.ru_stime for usage in (resource.getrusage(resource.RUSAGE_SELF),
                                                            resource.getrusage(resource.RUSAGE_CHILDREN)))
    return cpu, time.perf_counter()


def flop_counter():
    from torch.utils.flop_counter import FlopCounterMode

    return FlopCounterMode(display=False)


def _size(batch) -> int:
    first = batch[0] if isinstance(batch, (tuple, list)) else batch
    return len(first)


class Phases:
    """Exclusive CPU and wall seconds, and FLOPs, per path of nested phases."""

    def __init__(self, clock=process_clock):
        self.clock, self.stack, self.totals = clock, [], {}
        self.mark = clock()

    def entry(self, path: tuple[str, ...]) -> dict:
        return self.totals.setdefault(path, {"cpu": 0.0, "wall": 0.0, "flops": 0.0})

    def _charge(self) -> None:
        now = self.clock()
        if self.stack:
            entry = self.entry(tuple(self.stack))
            entry["cpu"] += now[0] - self.mark[0]
            entry["wall"] += now[1] - self.mark[1]
        self.mark = now

    @contextlib.contextmanager
    def phase(self, name: str):
        self._charge()
        self.stack.append(name)
        try:
            yield tuple(self.stack)
        finally:
            self._charge()
            self.stack.pop()

    def call(self, name: str, function, flops: bool = False):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            with self.phase(name) as path, (flop_counter() if flops else contextlib.nullcontext()) as counter:
                try:
                    return function(*args, **kwargs)
                finally:
                    if flops:
                        self.entry(path)["flops"] += counter.get_total_flops()
        return timed

    def batches(self, name: str, function, flops: bool = False):
        """``function`` returns batches; drawing each is ``name``. With ``flops``, what the drawing phase does
        with the first batch (one training step) is counted, and per image stands for every batch drawn."""
        @functools.wraps(function)
        def timed(*args, **kwargs):
            with self.phase(name):
                iterator = iter(function(*args, **kwargs))
            return self._drawn(name, iterator, flops)
        return timed

    def _drawn(self, name: str, iterator, flops: bool):
        drawer, counter, first, images = tuple(self.stack), None, 0, 0
        try:
            while True:
                with self.phase(name):
                    batch = next(iterator, StopIteration)
                if counter is not None:                    # the first step is done
                    counter.__exit__(None, None, None)
                    counter, per_image = None, counter.get_total_flops() / first
                if batch is StopIteration:
                    return
                images += _size(batch)
                if flops and not first:
                    first, counter = _size(batch), flop_counter()
                    counter.__enter__()
                yield batch
        finally:
            if counter is not None:
                counter.__exit__(None, None, None)
                per_image = counter.get_total_flops() / first
            if flops and first:
                self.entry(drawer)["flops"] += per_image * images

    def rows(self) -> list[dict]:
        """Each path's own seconds and FLOPs (a counted phase's FLOPs less those counted in the phases inside it)."""
        rows = []
        for path, entry in self.totals.items():
            inside = sum(other["flops"] for where, other in self.totals.items()
                         if len(where) == len(path) + 1 and where[:len(path)] == path)
            rows.append({"path": list(path), "cpu": entry["cpu"], "wall": entry["wall"],
                         "flops": max(entry["flops"] - inside, 0.0) if entry["flops"] else 0.0})
        return rows


def wrap(phases: Phases, modules: dict = sys.modules) -> None:
    """Wrap, once, each function of :data:`PHASES` whose module is loaded."""
    for module_name, where, name, how in PHASES:
        module = modules.get(module_name)
        owner_name, _, attribute = where.rpartition(".")
        owner = getattr(module, owner_name, None) if owner_name else module
        original = getattr(owner, attribute, None)
        if original is None or getattr(original, "phase", None):
            continue
        timing = phases.batches if how.startswith("batches") else phases.call
        timed = timing(name, original, flops=how.endswith("+flops"))
        timed.phase = name
        setattr(owner, attribute, timed)


def install(ipython, account_file: str) -> None:
    phases, cell = Phases(), {}

    def before(info):
        wrap(phases)
        phases.totals.clear()
        cpu, wall = process_clock()
        cell.update(cpu=cpu, wall=wall, line=(info.raw_cell.strip().splitlines() or [""])[0][:80])

    def after(result):
        cpu, wall = process_clock()
        with open(account_file, "a") as out:
            out.write(json.dumps({"kernel": os.getpid(), "cell": cell["line"], "cpu": cpu - cell["cpu"],
                                  "wall": wall - cell["wall"], "cpu_before": cell["cpu"],
                                  "phases": phases.rows()}) + "\n")

    ipython.events.register("pre_run_cell", before)
    ipython.events.register("post_run_cell", after)
