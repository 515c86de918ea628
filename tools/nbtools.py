"""Write notebooks from cell sources (used once to create them; the .ipynb files are the source)."""
import nbformat


def notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "saliency-inversion", "display_name": "Python (saliency-inversion)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    out = []
    for kind, source, *tags in cells:
        cell = nbformat.v4.new_markdown_cell(source.strip()) if kind == "md" else nbformat.v4.new_code_cell(source.strip())
        if tags:
            cell.metadata["tags"] = list(tags)
        out.append(cell)
    nb.cells = out
    return nb
