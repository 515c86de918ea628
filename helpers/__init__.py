"""What the notebooks import: every loop, layer, metric and file format of the project.

========== =====================================================================================
paths      every folder, resolved from the repository root (overridable by environment variables)
data       the real data layouts, the assignment's splits, decode-once datasets, downloads CLI
samples    the generated sample data sets (in the real on-disk formats)
downloads  official archives: progress, resume, SHA-256, safe extraction
models     SaliencyNet (Table 1), AlexNetEncoder and InversionDecoder (Tables 3 and 4)
training   one training loop for both parts: checkpoints, exact resume, device choice
metrics    the MIT saliency benchmark's metrics (AUC-Judd, AUC-Borji, sAUC, NSS, CC, SIM, KL, IG)
evaluation scoring saliency maps at the ground truth's resolution against the baselines
inversion  reconstructing images from a layer and measuring the error
plots      the figures, saved through one function
pipeline   running the notebooks headless with papermill (``make run``)
report     REPORT.md and REPORT.html from the metrics files
io         atomic writes
========== =====================================================================================
"""
