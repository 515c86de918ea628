"""Run the notebooks headless with papermill, in order: ``python -m helpers.pipeline`` (``make run``). Each runs
on the project's kernel with a cell timeout; a failure names the notebook, the cell and the executed copy.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill
from ipykernel.kernelspec import install
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from traitlets.config import Config

from . import notebooks as project_notebooks
from . import outputs, paths, run_command
from .profiles import PROFILES
from .report import build_report
from .spec import SHARED, SPECS

KERNEL_NAME = "saliency-inversion"
KERNEL_DISPLAY_NAME = "Python (saliency-inversion)"

#: ``make run PROFILE=assignment`` is for the real data: no silent fallback to random AlexNet weights.
REAL_RUN = {"REQUIRE_PRETRAINED": True}
#: Seconds a cell may run: a day, enough for notebook 01's 20 epochs on real CAT2000 on a CPU.
DEFAULT_CELL_TIMEOUT = 86_400


def notebooks(folder: Path = paths.NOTEBOOKS) -> list[Path]:
    """The notebooks, in the order their declared roles run in (:func:`helpers.notebooks.ordered`)."""
    return project_notebooks.ordered(folder)


def ensure_kernel(force: bool = False) -> Path | None:
    """Register this interpreter as the project's Jupyter kernel, inside its environment (a venv or a
    conda environment), when it is missing or runs another interpreter; return where it was written."""
    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if not force and Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return None
    except NoSuchKernel:
        pass
    return Path(install(kernel_name=KERNEL_NAME, display_name=KERNEL_DISPLAY_NAME, prefix=sys.prefix))


def parameters_for(profile: str, overrides: dict) -> dict:
    """What every notebook is given: its ``PROFILE`` (resolved inside the notebook by its spec,
    :meth:`helpers.spec.Spec.from_parameters`), the real-run policy for the assignment profile, and
    ``-p`` overrides."""
    if profile not in PROFILES:
        raise SystemExit(f"--profile must be one of {sorted(PROFILES)}, got {profile!r}")
    return {"PROFILE": profile, **(REAL_RUN if profile == "assignment" else {}), **overrides}


def _kernel_processes() -> list[int]:
    """This process's children (the kernel papermill started), read from /proc; [] where there is none."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            children.append(int(stat.parent.name))
    return children


@contextlib.contextmanager
def ctrl_c_interrupts_the_kernel():
    """While a notebook runs, Ctrl-C interrupts its kernel — the running cell stops with
    ``KeyboardInterrupt`` and papermill reports it as the cell's error — rather than tearing the kernel's
    connection down mid-message. Where the kernel cannot be found (no /proc), Ctrl-C acts as usual."""
    def interrupt_kernel(signum, frame):
        kernels = _kernel_processes()
        if not kernels:
            raise KeyboardInterrupt
        for pid in kernels:
            os.kill(pid, signal.SIGINT)

    previous = signal.signal(signal.SIGINT, interrupt_kernel)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


#: A headless kernel logs nothing of its own below CRITICAL (an interrupted one would log
#: "KeyboardInterrupt caught in kernel"); what its cells print and raise is papermill's to report.
QUIET_KERNEL = ["--IPKernelApp.log_level=CRITICAL"]


def run_notebook(notebook: Path, parameters: dict, timeout: int | None, stream: bool = False) -> Path:
    """Execute one notebook; return the executed copy's path. Raises papermill's error on failure.
    ``stream`` copies what the notebook prints (one line per epoch, progress) to this terminal as it
    runs; ``timeout`` is per cell, in seconds (None: no limit).

    The kernel talks to papermill over local IPC sockets in a private temporary folder rather than
    TCP ports, so nothing is sent over the network (and the kernel has no reason to warn about it)."""
    output = outputs.check_may_write(paths.executed_dir() / notebook.name, paths.executed_dir())
    running = output.with_name(f".{output.stem}.running.ipynb")   # renamed onto the copy when the run ends, however
    # the cells' streams to this terminal, once: papermill's log_output would print stderr a second time
    streams = dict(stdout_file=sys.stdout, stderr_file=sys.stderr) if stream else {}
    with tempfile.TemporaryDirectory(prefix="kernel-ipc-") as sockets, ctrl_c_interrupts_the_kernel():
        ipc = Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets) / "kernel")}})
        try:
            papermill.execute_notebook(str(notebook), str(running), parameters=parameters, kernel_name=KERNEL_NAME,
                                       cwd=str(paths.ROOT), execution_timeout=timeout, progress_bar=False,
                                       config=ipc, extra_arguments=QUIET_KERNEL, **streams)
        finally:
            if running.exists():
                os.replace(running, output)
    return output


def _interrupted_cell(output: Path) -> str:
    """Where the executed copy says the run stopped: the cell papermill marked failed, else the last
    cell that started (a dead kernel leaves no error, and papermill marks the cell completed)."""
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


def interrupted(notebook: Path) -> int:
    """Ctrl-C: one line — where, what is kept, how to resume — and the exit status. Under make (which
    reports the interrupt itself) 0, so make adds no second message; else 130, as a shell expects."""
    print(f"\ninterrupted in {notebook.name}. Kept: every notebook that finished, its records and figures, and "
          "the checkpoints — run the same command again: finished models load, the interrupted one resumes from "
          "its last checkpoint", file=sys.stderr, flush=True)
    return 0 if os.environ.get("MAKELEVEL") else 130


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="smoke",
                        help="smoke (the samples, minutes on a CPU), ci (the notebook tests' lighter scale) or "
                             "assignment (Tables 2 and 5, real data)")
    parser.add_argument("--only", default="", help="comma-separated notebook numbers, e.g. 01,02")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a parameter for every notebook that has it (Python literal or string)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_CELL_TIMEOUT,
                        help="seconds a cell may run before the run fails (default: a day; 0: no limit)")
    parser.add_argument("--quiet", action="store_true", help="print one line per notebook, not its output")
    parser.add_argument("--register-kernel", action="store_true",
                        help="only register this environment's Jupyter kernel 'saliency-inversion', then exit")
    parser.add_argument("--notebooks", type=Path, default=paths.NOTEBOOKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.register_kernel:
        print(f"kernel {KERNEL_NAME!r} ({sys.executable}) registered in {ensure_kernel(force=True)}")
        return 0

    overrides = {name: _literal(value) for name, value in args.parameter}
    selected = [nb for nb in notebooks(args.notebooks) if not args.only or nb.name[:2] in args.only.split(",")]
    if not selected:
        raise SystemExit(f"no notebook matches --only {args.only!r}")
    check_parameter_names(selected, overrides)
    parameters = parameters_for(args.profile, overrides)  # an unknown profile stops here, before any notebook
    check_parameter_values(selected, overrides, args.profile)
    ensure_kernel()
    os.environ["SALIENCY_PROGRESS_BARS"] = "0"  # the kernel inherits it: one line per epoch, no bars
    run = (f"'python -m helpers.pipeline --profile {args.profile}' (process {os.getpid()}, started "
           f"{time.strftime('%Y-%m-%d %H:%M')})")
    try:
        with outputs.one_run_at_a_time([paths.executed_dir(), paths.report_dir()], run) as doing:
            return _run_all(selected, parameters, args, doing)
    except outputs.NotOurFolder as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:   # Ctrl-C while waiting for another run, or while the report is built
        print("\nstopped: what finished is kept — run the same command again", file=sys.stderr)
        return 0 if os.environ.get("MAKELEVEL") else 130


def _run_all(selected: list[Path], parameters: dict, args, doing) -> int:
    started = time.perf_counter()
    for index, notebook in enumerate(selected, start=1):
        doing(f"running {notebook.name}")
        clock, cpu = time.perf_counter(), cpu_seconds()
        print(f"[{index}/{len(selected)}] {notebook.name} ...", flush=True)
        try:
            output = run_notebook(notebook, _accepted(notebook, parameters),
                                  args.timeout or None, stream=not args.quiet)
        except KeyboardInterrupt:  # Ctrl-C reaches this process and the kernel alike
            return interrupted(notebook)
        except outputs.NotOurFolder:
            raise   # refused before the notebook ran: its one line, not a cell of the user's file
        except Exception as error:  # papermill's execution error, a dead kernel, a timeout
            if getattr(error, "ename", "") == "KeyboardInterrupt":  # the kernel's cell took the Ctrl-C
                return interrupted(notebook)
            print(describe_failure(notebook, error), file=sys.stderr)
            return 1
        print(f"[{index}/{len(selected)}] {notebook.name} done in {time.perf_counter() - clock:.0f}s "
              f"({cpu_seconds() - cpu:.0f} CPU-s) → {output}", flush=True)
    report_md, report_html = build_report()
    print(f"{_count(len(selected), 'notebook')} ran in {time.perf_counter() - started:.0f}s; "
          f"figures in {paths.figures_dir()}, metrics in {paths.metrics_dir()}\n"
          f"report: {report_md} and {report_html}")
    return 0


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of the kernels it started and saw end (each
    notebook's kernel has ended when its notebook is done, so the difference is that notebook's)."""
    try:
        import resource
    except ImportError:   # Windows
        return time.process_time()
    return sum(usage.ru_utime + usage.ru_stime for usage in (resource.getrusage(resource.RUSAGE_SELF),
                                                            resource.getrusage(resource.RUSAGE_CHILDREN)))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


#: A notebook's ``XSpec.from_parameters(globals(), prefix=..., shared=(...), group=...)``: what it builds.
SPEC_CALL = re.compile(r'(\w+Spec)\.from_parameters\(globals\(\)(?:, prefix="(\w*)")?(?:, shared=\(([^)]*)\))?'
                       r'(?:,\s*group="(\w+)")?')


def notebook_specs(notebook: Path) -> list[tuple[type, dict[str, str], str]]:
    """The specs ``notebook`` builds, read from its own code: each spec class, field → the parameter
    it reads, and the profile group that fills what is left unset."""
    by_class = {spec.__name__: spec for spec in SPECS.values()}
    code = "".join(cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code")
    found = []
    for name, prefix, shared, group in SPEC_CALL.findall(code):
        spec = by_class[name]
        fields = tuple(re.findall(r'"(\w+)"', shared)) if shared else SHARED
        found.append((spec, spec.parameter_names(prefix, fields), group or spec.PART))
    return found


def declared_parameters(notebook: Path) -> set[str]:
    """The parameters ``notebook`` takes: those its parameters cell declares (papermill's
    ``inspect_notebook``), and every field of the specs it builds, by the name it reads them under."""
    declared = set(papermill.inspect_notebook(str(notebook)))
    for _, names, _ in notebook_specs(notebook):
        declared |= set(names.values())
    return declared


def check_parameter_values(selected: list[Path], overrides: dict, profile: str) -> None:
    """Stop before any notebook runs when a ``-p`` value does not fit a notebook that takes it (Part 1's
    ``IMAGE_SIZE`` is ``[height, width]``, Part 2's one side), naming each notebook and what it expects."""
    problems = []
    for notebook in selected:
        for spec, names, group in notebook_specs(notebook):
            given = {field: overrides[name] for field, name in names.items() if name in overrides}
            if not given:
                continue
            try:
                spec.from_values(given, profile, group, report=None)
            except ValueError as error:
                problems.append(f"  {notebook.stem}: {error}")
    if problems:
        raise SystemExit("a -p value does not fit every notebook that takes it (nothing has run):\n"
                         + "\n".join(problems) + "\nRun those notebooks separately with --only and their own value")


def check_parameter_names(selected: list[Path], overrides: dict) -> None:
    """Stop on a parameter that none of the selected notebooks declares (a typo would otherwise run
    the defaults without a word), suggesting the closest declared name."""
    declared = set().union(*(declared_parameters(nb) for nb in selected))
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
    """Only the parameters the notebook takes (so ``-p WholeDataset 50`` reaches every notebook)."""
    declared = declared_parameters(notebook)
    return {name: value for name, value in parameters.items() if name in declared}


def command_line() -> int:
    """``main`` for a terminal: a mistake in the command (a misspelt ``-p``, an unknown profile) is its
    one line and exit status 2, as for argparse's own usage errors."""
    try:
        return main()
    except SystemExit as stop:
        if not isinstance(stop.code, str):
            raise
        print(stop.code, file=sys.stderr)
        return 2


if __name__ == "__main__":
    run_command(command_line, "python -m helpers.pipeline")
