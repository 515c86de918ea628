"""Build an nbformat notebook (no outputs, the project's kernel) from ``(kind, source, *tags)`` cells."""
import nbformat


def notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "saliency-inversion", "display_name": "Python (saliency-inversion)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    out = []
    for index, (kind, source, *tags) in enumerate(cells):
        cell = nbformat.v4.new_markdown_cell(source.strip()) if kind == "md" else nbformat.v4.new_code_cell(source.strip())
        cell.id = f"cell-{index:02d}"  # stable ids: regenerating a notebook changes only what changed
        if tags:
            cell.metadata["tags"] = list(tags)
        out.append(cell)
    nb.cells = out
    return nb
