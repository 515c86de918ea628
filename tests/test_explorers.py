"""The JupyterLab explorers, driven through their widgets' callbacks: what they show follows the selection."""
import numpy as np
import pandas as pd
import pytest
import torch

from helpers import explorers
from helpers.data import saliency_splits


@pytest.fixture(scope="module")
def saliency_explorer(small_sample):
    _, _, test = saliency_splits("sample", small_sample, WholeDataset=24, seed=3)
    keys = [(item.category, item.stimulus.stem) for item in test]
    rng = np.random.default_rng(0)
    rows = [{"model": model, "category": c, "image": s, "AUC-Judd": rng.random(), "NSS": rng.random() * 3, "KL": rng.random()}
            for model in ("net", "centre bias") for c, s in keys]
    predictions = {name: {key: rng.random((12, 16)) for key in keys} for name in ("net", "centre bias")}
    return explorers.SaliencyExplorer(pd.DataFrame(rows), test, predictions)


@pytest.mark.slow   # five figures drawn: 3.9-5.2 s on two AVX2 cores, at the quick tier's 5-s limit
def test_the_saliency_explorer_shows_the_image_of_the_chosen_rank_metric_and_map(saliency_explorer):
    explorer, scores = saliency_explorer, saliency_explorer.scores
    explorer.show()
    net = scores[scores["model"] == "net"]
    best = net.loc[net["AUC-Judd"].idxmax()]
    assert explorer.state["image"] == (best["category"], best["image"]) and explorer.state["value"] == best["AUC-Judd"]
    explorer.rank.value = explorer.rank.max                      # the callback runs on the change
    worst = net.loc[net["AUC-Judd"].idxmin()]
    assert explorer.state["image"] == (worst["category"], worst["image"])
    explorer.metric.value = "KL"                                # lower is better: rank 1 is the lowest KL
    explorer.rank.value = 1
    assert explorer.state["value"] == net["KL"].min() and explorer.state["metric"] == "KL"
    explorer.map.value = "centre bias"
    centre = scores[scores["model"] == "centre bias"]
    assert explorer.state["value"] == centre["KL"].min() and explorer.state["map"] == "centre bias"
    assert "<table" in explorer.table.value and "KL" in explorer.table.value
    assert len(explorer.output.outputs) == 1 and "image/png" in explorer.output.outputs[0]["data"]  # replaced, not added


def test_the_reconstruction_explorer_shows_the_chosen_photograph_and_layer():
    torch.manual_seed(0)
    images = torch.randn(3, 3, 16, 16)
    reconstructions = {"pretrained": {"a": images + 0.1, "b": images * 0},
                       "random": {"a": images + 0.5, "b": images + 1.0}}
    explorer = explorers.ReconstructionExplorer(images, reconstructions)
    explorer.show()
    first = explorer.state
    assert first["photo"] == 0 and first["layer"] == "a"
    assert first["errors"]["pretrained"] < first["errors"]["random"]
    explorer.layer.value = "b"
    assert explorer.state["layer"] == "b" and explorer.state["errors"] != first["errors"]
    explorer.photo.value = 2
    assert explorer.state["photo"] == 2 and "RMS error" in explorer.caption.value


def test_a_headless_run_leaves_the_explorer_out_and_says_so(monkeypatch, capsys):
    monkeypatch.setenv("SALIENCY_PROGRESS", "text")
    explorers.show_or_skip(object(), "Explorer")
    assert "left out of this headless run" in capsys.readouterr().out


@pytest.mark.slow
def test_in_a_kernel_the_explorer_draws_one_figure_per_selection_into_its_output_area():
    """In a real Jupyter kernel (the project's), the explorer's output area holds the figure of the
    current selection — replaced, not appended, when the selection changes."""
    import nbformat
    from nbclient import NotebookClient

    from helpers import pipeline

    code = """
import numpy as np, pandas as pd, torch
from helpers import explorers
images = torch.randn(3, 3, 16, 16)
explorer = explorers.ReconstructionExplorer(images, {"pretrained": {"a": images, "b": images * 0},
                                                     "random": {"a": images + 1, "b": images - 1}})
explorer.show()
first = explorer.output.outputs[0]["data"]["image/png"]
explorer.layer.value = "b"
explorer.photo.value = 1
outputs = explorer.output.outputs
print(len(outputs), outputs[0]["data"]["image/png"] != first, explorer.state["photo"], explorer.state["layer"])
"""
    pipeline.ensure_kernel()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\n" + code)])
    NotebookClient(notebook, kernel_name=pipeline.KERNEL_NAME, timeout=120).execute()
    printed = "".join(out.get("text", "") for out in notebook.cells[0].outputs if out.output_type == "stream")
    assert printed.split() == ["1", "True", "1", "b"]
