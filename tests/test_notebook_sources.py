"""The committed notebooks: no outputs, one parameters cell, and 03–06 kept as one template."""
import json

import pytest

from helpers import paths

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
LAYER_NOTEBOOKS = {"03_invert_conv2": "conv2", "04_invert_conv5": "conv5", "05_invert_fc6": "fc6",
                   "06_invert_fc8": "fc8"}


def cells(path):
    return json.loads(path.read_text())["cells"]


def test_every_numbered_notebook_is_there():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs_and_with_one_parameters_cell(path):
    code = [c for c in cells(path) if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    tagged = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0]
    assert json.loads(path.read_text())["metadata"]["kernelspec"]["name"] == "saliency-inversion"


@pytest.mark.parametrize("stem", list(LAYER_NOTEBOOKS)[1:])
def test_layer_notebooks_differ_from_03_only_by_the_layer(stem):
    template = json.dumps(cells(paths.NOTEBOOKS / "03_invert_conv2.ipynb"))
    expected = template.replace("conv2", LAYER_NOTEBOOKS[stem])
    assert json.dumps(cells(paths.NOTEBOOKS / f"{stem}.ipynb")) == expected


def test_layer_defaults_match_the_notebook_names():
    for stem, layer in LAYER_NOTEBOOKS.items():
        source = "".join(cells(paths.NOTEBOOKS / f"{stem}.ipynb")[1]["source"])
        assert f'LAYER: str = "{layer}"' in source
