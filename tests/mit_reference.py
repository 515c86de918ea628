"""A direct, line-by-line port of the MIT benchmark's ``AUC_Judd.m`` loop (jitter off), used as the
reference in tests and as the slow baseline in ``benchmarks/``. Inputs must already share a size."""
import numpy as np


def auc_judd_mit_loop(saliency_map, fixation_map) -> float:
    S = np.asarray(saliency_map, dtype=np.float64)
    S = (S - S.min()) / (S.max() - S.min())
    S = S.ravel(order="F")                      # MATLAB's S(:) is column-major
    F = np.asarray(fixation_map).ravel(order="F")
    Sth = S[F > 0]
    Nfixations, Npixels = len(Sth), len(S)
    allthreshes = np.sort(Sth)[::-1]
    tp = np.zeros(Nfixations + 2)
    fp = np.zeros(Nfixations + 2)
    tp[0], tp[-1], fp[0], fp[-1] = 0, 1, 0, 1
    for i in range(1, Nfixations + 1):
        thresh = allthreshes[i - 1]
        aboveth = np.sum(S >= thresh)
        tp[i] = i / Nfixations
        fp[i] = (aboveth - i) / (Npixels - Nfixations)
    return float(np.sum(np.diff(fp) * (tp[1:] + tp[:-1]) / 2))  # trapz(fp, tp)


def auc_splits_mit_loop(values, fixated, negatives, step: float = 0.1) -> float:
    """``AUC_Borji.m``'s (and ``AUC_shuffled.m``'s) loop over splits, line by line: ``values`` the
    min-max normalised map (flat), ``fixated`` the flat fixation mask, ``negatives`` one row of pixel
    indices per split (drawn as the caller draws them). MATLAB's ``0:step:max`` is :func:`colonop`."""
    Sth = values[fixated]
    Nfixations = len(Sth)
    auc = []
    for split in negatives:
        curfix = values[split]
        allthreshes = np.array(colonop(0.0, step, float(max(Sth.max(), curfix.max()))))[::-1]
        tp = np.zeros(len(allthreshes) + 2)
        fp = np.zeros(len(allthreshes) + 2)
        tp[-1], fp[-1] = 1, 1
        for i, thresh in enumerate(allthreshes, start=1):
            tp[i] = np.sum(Sth >= thresh) / Nfixations
            fp[i] = np.sum(curfix >= thresh) / len(curfix)
        auc.append(np.sum(np.diff(fp) * (tp[1:] + tp[:-1]) / 2))   # trapz(fp, tp)
    return float(np.mean(auc))


def colonop(base: float, increment: float, limit: float) -> list[float]:
    """MATLAB's ``base:increment:limit``, as MathWorks' ``colonop.m`` (the algorithm its documentation
    gives for the colon operator) computes it, one scalar at a time and 1-based as there; written apart
    from the project's ``helpers.metrics.matlab_colon``, which the tests compare with it."""
    tol = 2.0 * np.finfo(float).eps * max(abs(base), abs(limit))
    sig = 1.0 if increment > 0 else -1.0
    n = round((limit - base) / increment)             # the number of intervals
    if sig * (base + n * increment - limit) > tol:
        n = n - 1
    if n < 0:
        return []
    last = base + n * increment
    if sig * (last - limit) > -tol:
        last = limit
    out = [0.0] * (n + 1)                             # symmetric about its middle
    for k in range(0, n // 2 + 1):
        out[(1 + k) - 1] = base + k * increment       # out(1+k)
        out[(n + 1 - k) - 1] = last - k * increment   # out(n+1-k)
    if n % 2 == 0:
        out[(n // 2 + 1) - 1] = (base + last) / 2     # out(n/2+1)
    return out
