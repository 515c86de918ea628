"""The committed notebooks — the only source of each notebook: no outputs, one parameters cell, a
declared role, the specs that role builds, and the layer notebooks identical but for their title and
``LAYER`` default. Notebooks are found by their role (:mod:`helpers.notebooks`), never by number."""
import json
import re

import pytest

from helpers import notebooks

NOTEBOOKS = notebooks.ordered()
#: The most lines notebook 01's call closure may reach (benchmarks/reading_path.py); it only comes down.
READING_PATH_CEILING = 2229


def layer_default(path) -> str:
    return re.search(r'LAYER: str = "([^"]+)"', "".join(cells(path)[1]["source"])).group(1)


def layer_notebooks() -> dict[str, str]:
    """stem → the layer it inverts, of every notebook whose role is ``layer``."""
    return {path.stem: layer_default(path) for path in notebooks.with_role("layer")}


def cells(path):
    return json.loads(path.read_text())["cells"]


def test_every_notebook_declares_its_role_and_they_run_training_first_summary_last():
    assert [notebooks.role(p) for p in NOTEBOOKS] == ["saliency-training", "saliency-evaluation", "layer", "layer",
                                                      "layer", "layer", "layer-summary"]


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


def test_layer_notebooks_differ_from_the_first_only_by_title_and_layer():
    first, *others = notebooks.with_role("layer")
    assert others, "one layer notebook only"
    for other in others:
        drifted = cell_differences(cells(first), cells(other), layer_default(first), layer_default(other))
        assert not drifted, f"{other.stem} drifted from {first.stem} in " + "; ".join(drifted)


def test_no_layer_notebook_mentions_its_layer_outside_its_title_and_parameters():
    for path in notebooks.with_role("layer"):
        body = [c for c in cells(path)[1:] if "parameters" not in c["metadata"].get("tags", [])]
        assert not any(layer_default(path) in "".join(c["source"]) for c in body), path.stem


def test_each_layer_notebooks_title_names_its_layer():
    for path in notebooks.with_role("layer"):
        assert layer_default(path) in "".join(cells(path)[0]["source"]).splitlines()[0], path.stem


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_cell_is_valid_python(path):
    import ast

    for number, cell in enumerate(cells(path), start=1):
        if cell["cell_type"] == "code":
            try:
                ast.parse("".join(cell["source"]))
            except SyntaxError as error:
                pytest.fail(f"{path.name}, cell {number}: {error}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_parameter_is_declared_with_an_annotation(path):
    """A spec tells a misspelt papermill parameter from a declared one by the parameters cell's
    annotations (helpers.spec.check_parameters)."""
    import ast

    cell = next(c for c in cells(path) if "parameters" in c["metadata"].get("tags", []))
    tree = ast.parse("".join(cell["source"]))
    assert not [target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets]
    assert all(isinstance(node, ast.AnnAssign) for node in tree.body if not isinstance(node, ast.Expr))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_reads_every_declared_parameter(path):
    """papermill's parser skips an annotation it cannot read (``str | None``) and then warns "Passed
    unknown parameter" for a parameter the notebook uses; the pipeline reads the same parser."""
    import ast

    import papermill

    cell = next(c for c in cells(path) if "parameters" in c["metadata"].get("tags", []))
    declared = {node.target.id for node in ast.parse("".join(cell["source"])).body if isinstance(node, ast.AnnAssign)}
    assert declared <= set(papermill.inspect_notebook(str(path)))


@pytest.mark.slow   # a fresh interpreter importing torch: 4-6 s
def test_importing_part_1s_recipe_loads_no_downloading_cleaning_reporting_or_pipeline_code():
    """A student reading notebook 01's imports reads the recipe's modules, not the project's plumbing."""
    import subprocess
    import sys

    loaded = subprocess.run([sys.executable, "-c", "import sys, helpers.saliency; print(' '.join(sys.modules))"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert "helpers.saliency" in loaded
    assert [m for m in ("helpers.downloads", "helpers.clean", "helpers.report", "helpers.pipeline") if m in loaded] == []


def test_every_helper_has_a_small_interface_and_the_loops_classes_fit_a_page():
    """No function in helpers/ takes more than 9 parameters or runs over 70 lines; no class of the
    training loop over 80: a student reads each on one screen."""
    import ast
    from pathlib import Path

    too_big = []
    for path in sorted((Path(__file__).resolve().parents[1] / "helpers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            length = node.end_lineno - node.lineno + 1
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                count = len(args.posonlyargs + args.args + args.kwonlyargs) + bool(args.vararg) + bool(args.kwarg)
                count -= bool(args.args) and args.args[0].arg in ("self", "cls")
                if count > 9 or length > 70:
                    too_big.append(f"{path.name}:{node.lineno} {node.name}: {count} parameters, {length} lines")
            if isinstance(node, ast.ClassDef) and path.name == "training.py" and length > 80:
                too_big.append(f"{path.name}:{node.lineno} class {node.name}: {length} lines")
    assert too_big == []


def test_the_reading_path_on_the_architecture_page_is_what_the_call_closure_of_notebook_01_measures_now():
    """docs/architecture.md prints benchmarks/reading_path.py's table: the lines of every helpers definition
    notebook 01's calls reach, counted again here from the code."""
    import sys
    from pathlib import Path

    from helpers.io import marked_block

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "benchmarks"))
    import reading_path

    page = marked_block(reading_path.PAGE.read_text(), *reading_path.MARKERS, "docs/architecture.md")
    assert page == reading_path.table()
    lines, total = reading_path.measure()
    assert total <= READING_PATH_CEILING and "helpers/training.py" in lines and "helpers/io.py" not in lines


