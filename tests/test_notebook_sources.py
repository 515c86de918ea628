"""The committed notebooks — the only source of each notebook: no outputs, one parameters cell, and
03–06 identical but for their title and ``LAYER`` default."""
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


def cell_differences(reference: list, other: list, reference_layer: str, layer: str) -> list[str]:
    """Where ``other`` differs from ``reference`` beyond what a layer notebook may change: its title
    (the first cell) and its ``LAYER`` default (in the parameters cell). Named by cell number and id."""
    if len(reference) != len(other):
        return [f"{len(other)} cells instead of {len(reference)}"]
    drifted = []
    for number, (a, b) in enumerate(zip(reference, other), start=1):
        source_a, source_b = "".join(a["source"]), "".join(b["source"])
        if number == 1:  # the title names the layer
            source_a = source_a.replace(reference_layer, layer)
        if "parameters" in a["metadata"].get("tags", []):
            source_a = source_a.replace(f'LAYER: str = "{reference_layer}"', f'LAYER: str = "{layer}"')
        if (a["cell_type"], source_a, a["metadata"]) != (b["cell_type"], source_b, b["metadata"]):
            drifted.append(f"cell {number} (id {b.get('id')}): {source_b.splitlines()[0] if source_b else ''!r}")
    return drifted


@pytest.mark.parametrize("stem", list(LAYER_NOTEBOOKS)[1:])
def test_layer_notebooks_differ_from_03_only_by_title_and_layer(stem):
    drifted = cell_differences(cells(paths.NOTEBOOKS / "03_invert_conv2.ipynb"), cells(paths.NOTEBOOKS / f"{stem}.ipynb"),
                               "conv2", LAYER_NOTEBOOKS[stem])
    assert not drifted, f"{stem} drifted from 03_invert_conv2 in " + "; ".join(drifted)


def test_the_drift_check_names_the_cell_that_drifted():
    reference = cells(paths.NOTEBOOKS / "03_invert_conv2.ipynb")
    edited = json.loads(json.dumps(cells(paths.NOTEBOOKS / "04_invert_conv5.ipynb")))
    edited[5]["source"] = ["print('edited in JupyterLab')\n"]
    assert cell_differences(reference, edited, "conv2", "conv5") == [
        f"cell 6 (id {edited[5].get('id')}): \"print('edited in JupyterLab')\""]


def test_no_notebook_mentions_another_layer_outside_its_title_and_parameters():
    for stem, layer in LAYER_NOTEBOOKS.items():
        body = [c for c in cells(paths.NOTEBOOKS / f"{stem}.ipynb")[1:] if "parameters" not in c["metadata"].get("tags", [])]
        assert not any(layer in "".join(c["source"]) for c in body), stem


def test_layer_defaults_match_the_notebook_names():
    for stem, layer in LAYER_NOTEBOOKS.items():
        source = "".join(cells(paths.NOTEBOOKS / f"{stem}.ipynb")[1]["source"])
        assert f'LAYER: str = "{layer}"' in source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_cell_is_valid_python(path):
    import ast

    for number, cell in enumerate(cells(path), start=1):
        if cell["cell_type"] == "code":
            try:
                ast.parse("".join(cell["source"]))
            except SyntaxError as error:
                pytest.fail(f"{path.name}, cell {number}: {error}")
