"""What the notebooks import: every loop, layer, metric and file format of the project.

Start with :mod:`helpers.saliency` (Part 1's recipe) and :mod:`helpers.inversion` (Part 2's); both build
a spec (:mod:`helpers.spec`) and call :func:`helpers.training.fit`. ``docs/design.md`` maps every module.
"""
import sys as _sys


def _one_line_refusals() -> None:
    """In a notebook (JupyterLab, papermill), an error raised by the project itself — a misspelt
    parameter, missing data, a checkpoint of other settings — shows as its one line, which says what
    went wrong and what to do, not the frames that raised it (``%tb`` prints them). Other errors
    keep IPython's full traceback; ``%tb`` prints the frames of either."""
    if "IPython" not in _sys.modules:
        return
    shell = _sys.modules["IPython"].get_ipython()
    if shell is None or not hasattr(shell, "_showtraceback"):
        return

    def one_line(self, etype, value, tb, tb_offset=None):
        _sys.last_type, _sys.last_value, _sys.last_traceback = etype, value, tb   # what %tb prints
        if not etype.__module__.startswith(__name__ + "."):
            return self.showtraceback((etype, value, tb), tb_offset=tb_offset)
        self._showtraceback(etype, value, [f"{etype.__name__}: {value}"])

    shell.set_custom_exc((Exception,), one_line)


_one_line_refusals()


def run_command(main, prog: str) -> None:
    """Exit with ``main()``'s status; an error the project raised, or a file the system refused, is its one line
    (which says what to do), exit status 1 — every ``python -m helpers.…`` ends this way."""
    try:
        status = main()
    except Exception as error:
        if not (type(error).__module__.startswith(__name__ + ".") or isinstance(error, OSError)):
            raise
        print(f"{prog}: {error}", file=_sys.stderr)
        status = 1
    _sys.exit(status)
