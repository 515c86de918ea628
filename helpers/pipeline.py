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
    **{stem: {"WholeDataset": 120, "EPOCHS": 4, "BATCH_SIZE": 16, "LR_STEP": 3}
       for stem in ("03_invert_conv2", "04_invert_conv5", "05_invert_fc6", "06_invert_fc8")},
    "07_inversion_summary": {"WholeDataset": 120},
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
    """Execute one notebook; return the executed copy's path. Raises papermill's error on failure."""
    import papermill

    output = paths.ensure(paths.executed_dir()) / notebook.name
    papermill.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name=KERNEL_NAME,
                               cwd=str(paths.ROOT), execution_timeout=timeout, progress_bar=False,
                               log_output=False)
    return output


def describe_failure(notebook: Path, error: Exception) -> str:
    output = paths.executed_dir() / notebook.name
    cell = getattr(error, "exec_count", None)
    where = f"cell [{cell}]" if cell is not None else "a cell"
    name = getattr(error, "ename", type(error).__name__)
    value = getattr(error, "evalue", str(error))
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
    print(f"all {len(selected)} notebooks ran in {time.perf_counter() - started:.0f}s; "
          f"figures in {paths.figures_dir()}, metrics in {paths.metrics_dir()}\n"
          f"report: {report_md} and {report_html}")
    return 0


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
