"""Run the numbered notebooks headless with papermill, in order: ``python -m helpers.pipeline``.

Each notebook runs with the project's kernel, the repository root as working directory and an
execution timeout; the executed copy goes to ``executed/`` (ignored by git). A failing notebook stops
the run with a message naming it, the failing cell and the executed copy; what earlier notebooks
wrote to ``report/`` is kept.
"""
from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path

from . import paths

KERNEL_NAME = "saliency-inversion"
KERNEL_DISPLAY_NAME = "Python (saliency-inversion)"

#: Settings per notebook for the quick run on the embedded sample (a 2-core CPU in minutes).
#: The notebooks' own defaults are the assignment's settings (the "full" profile).
SMOKE = {
    "01_saliency_model": {"WholeDataset": 80, "EPOCHS": 15, "OPTIMIZER": "adam", "LEARNING_RATE": 3e-4,
                          "IMAGE_SIZE": [96, 128]},
    **{stem: {"WholeDataset": 144, "EPOCHS": 4, "BATCH_SIZE": 16, "LR_STEP": 3}
       for stem in ("03_invert_conv2", "04_invert_conv5", "05_invert_fc6", "06_invert_fc8")},
}
#: Real runs: the notebooks' own defaults (the assignment's settings) on the real data, and no silent
#: fallback to random AlexNet weights.
FULL = {stem: {"REQUIRE_PRETRAINED": True} for stem in (
    "03_invert_conv2", "04_invert_conv5", "05_invert_fc6", "06_invert_fc8", "07_inversion_summary")}
PROFILES = {"smoke": SMOKE, "full": FULL}


def notebooks(folder: Path = paths.NOTEBOOKS) -> list[Path]:
    """The numbered notebooks, in order."""
    return sorted(p for p in Path(folder).glob("[0-9][0-9]_*.ipynb"))


def ensure_kernel() -> None:
    """Register this interpreter as the project's Jupyter kernel (inside its environment) if needed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        from ipykernel.kernelspec import install

        install(kernel_name=KERNEL_NAME, display_name=KERNEL_DISPLAY_NAME, prefix=sys.prefix)


def parameters_for(notebook: Path, profile: str, overrides: dict) -> dict:
    if profile not in PROFILES:
        raise SystemExit(f"--profile must be one of {sorted(PROFILES)}, got {profile!r}")
    return {**PROFILES[profile].get(notebook.stem, {}), **overrides}


def run_notebook(notebook: Path, parameters: dict, timeout: int) -> Path:
    """Execute one notebook; return the executed copy's path. Raises papermill's error on failure.

    The kernel talks to papermill over local IPC sockets in a private temporary folder rather than
    TCP ports, so nothing is sent over the network (and the kernel has no reason to warn about it)."""
    import tempfile

    import papermill
    from traitlets.config import Config

    output = paths.ensure(paths.executed_dir()) / notebook.name
    with tempfile.TemporaryDirectory(prefix="kernel-ipc-") as sockets:
        ipc = Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets) / "kernel")}})
        papermill.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name=KERNEL_NAME,
                                   cwd=str(paths.ROOT), execution_timeout=timeout, progress_bar=False,
                                   log_output=False, config=ipc)
    return output


def _interrupted_cell(output: Path) -> str:
    """Where the executed copy says the run stopped: the cell papermill marked failed, else the last
    cell that started (a dead kernel leaves no error, and papermill marks the cell completed)."""
    import nbformat

    try:
        executed = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        return "a cell"
    code_cells = [c for c in executed.cells if c.cell_type == "code"]
    marks = [c.metadata.get("papermill", {}) for c in code_cells]
    started = [n for n, mark in enumerate(marks) if mark.get("start_time")]
    failed = [n for n, mark in enumerate(marks) if mark.get("status") == "failed"]
    if not (failed or started):
        return "a cell"
    index = (failed or started)[0 if failed else -1]
    first_line = next((line.strip() for line in code_cells[index].source.splitlines() if line.strip()), "")
    return f"code cell {index + 1} of {len(code_cells)} ({first_line[:60]!r})"


def describe_failure(notebook: Path, error: Exception) -> str:
    """What a person needs to act on a failed notebook: which cell, what it raised, where the copy is.
    A dead kernel (out of memory, a crash in native code) names the cell that was running."""
    output = paths.executed_dir() / notebook.name
    cell = getattr(error, "exec_count", None)
    where = f"cell [{cell}]" if cell is not None else _interrupted_cell(output)
    name = getattr(error, "ename", type(error).__name__)
    value = getattr(error, "evalue", str(error))
    if "DeadKernel" in name:
        value += " (the kernel died: out of memory, or a crash in native code)"
    return (f"FAILED {notebook.name}: {where} raised {name}: {value}\n"
            f"  the executed copy, with the traceback, is {output}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="smoke", help="smoke (embedded sample, minutes on a CPU) or full")
    parser.add_argument("--only", default="", help="comma-separated notebook numbers, e.g. 01,02")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a parameter for every notebook that has it (Python literal or string)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell before the run fails")
    parser.add_argument("--notebooks", type=Path, default=paths.NOTEBOOKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    overrides = {name: _literal(value) for name, value in args.parameter}
    selected = [nb for nb in notebooks(args.notebooks) if not args.only or nb.name[:2] in args.only.split(",")]
    if not selected:
        raise SystemExit(f"no notebook matches --only {args.only!r}")
    check_parameter_names(selected, overrides)
    ensure_kernel()
    os.environ["SALIENCY_PROGRESS_BARS"] = "0"  # the kernel inherits it: one line per epoch, no bars
    started = time.perf_counter()
    for index, notebook in enumerate(selected, start=1):
        clock = time.perf_counter()
        print(f"[{index}/{len(selected)}] {notebook.name} ...", flush=True)
        try:
            output = run_notebook(notebook, _accepted(notebook, parameters_for(notebook, args.profile, overrides)),
                                  args.timeout)
        except Exception as error:  # papermill's execution error, a dead kernel, a timeout
            print(describe_failure(notebook, error), file=sys.stderr)
            return 1
        print(f"[{index}/{len(selected)}] {notebook.name} done in {time.perf_counter() - clock:.0f}s → {output}",
              flush=True)
    from .report import build_report

    report_md, report_html = build_report()
    print(f"{_count(len(selected), 'notebook')} ran in {time.perf_counter() - started:.0f}s; "
          f"figures in {paths.figures_dir()}, metrics in {paths.metrics_dir()}\n"
          f"report: {report_md} and {report_html}")
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def check_parameter_names(selected: list[Path], overrides: dict) -> None:
    """Stop on a parameter that none of the selected notebooks declares (a typo would otherwise run
    the defaults without a word), suggesting the closest declared name."""
    import difflib

    import papermill

    declared = set().union(*(papermill.inspect_notebook(str(nb)) for nb in selected))
    for name in overrides:
        if name not in declared:
            close = difflib.get_close_matches(name, sorted(declared), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; they declare {', '.join(sorted(declared))}"
            raise SystemExit(f"-p {name}: no selected notebook ({', '.join(nb.stem for nb in selected)}) "
                             f"declares a parameter {name!r}{hint}")


def _literal(value: str):
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _accepted(notebook: Path, parameters: dict) -> dict:
    """Only the parameters the notebook declares (so ``-p WholeDataset 50`` reaches every notebook)."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    return {name: value for name, value in parameters.items() if name in declared}


if __name__ == "__main__":
    sys.exit(main())
