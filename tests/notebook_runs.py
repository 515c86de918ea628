"""Running the project's notebooks from the tests: headless, through ``helpers.pipeline``, as ``make run``
does."""
from helpers import paths, pipeline


def execute(stem: str, profile: str = "ci", **overrides):
    notebook = paths.NOTEBOOKS / f"{stem}.ipynb"
    pipeline.ensure_kernel()
    parameters = pipeline._accepted(notebook, pipeline.parameters_for(profile, overrides))
    return pipeline.run_notebook(notebook, parameters, timeout=900)


def notebook_default(stem: str, name: str):
    """A parameter's default as the notebook declares it."""
    import ast

    import papermill

    return ast.literal_eval(papermill.inspect_notebook(str(paths.NOTEBOOKS / f"{stem}.ipynb"))[name]["default"])
