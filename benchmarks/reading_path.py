"""The reading path of Part 1, measured: the static call closure of notebook 01's calls into helpers/.

    python benchmarks/reading_path.py          # prints the table docs/architecture.md shows
    python benchmarks/reading_path.py --write  # and writes it there, between the reading-path markers

From every helpers name notebook 01's code uses, it follows each definition's calls — a name defined or
imported in its module, ``module.name`` of an imported helpers module, and a method of a class already
reached, called by its name on any object — until nothing new is reached, and counts the lines of every
definition reached (a class: its lines outside the methods nobody reached). It skips what a student need
not read to follow the recipe: the on-disk data readers, the sample generator and the file-writing helpers
(``SKIPPED``). Static, so it can over-count (a method of the same name on another class) but not miss a call
made by name.
"""
from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_saliency_model.ipynb"
SKIPPED = ("helpers/data/readers.py", "helpers/data/saliency_layouts.py", "helpers/data/image_layouts.py",
           "helpers/samples.py", "helpers/io.py")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(module: str, level: int, target: str | None, is_package: bool) -> str:
    """The absolute module of ``from <level dots><target> import …`` written in ``module``."""
    if not level:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - level + 1]
    return ".".join(base + ([target] if target else []))


class Module:
    """One helpers module: its top-level definitions, and what each imported name refers to."""

    def __init__(self, path: Path):
        self.path, self.name = path, module_name(path)
        self.tree = ast.parse(path.read_text())
        self.definitions = {node.name: node for node in self.tree.body
                            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        self.imports: dict[str, tuple[str, str | None]] = {}   # local name → (module, name or None for a module)
        for node in self.tree.body:
            if isinstance(node, ast.ImportFrom):
                source = resolve(self.name, node.level, node.module, path.name == "__init__.py")
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (source, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports[alias.asname or alias.name.split(".")[0]] = (alias.name, None)


def span(node: ast.AST) -> int:
    return node.end_lineno - min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) + 1


def closure(modules: dict[str, Module], roots: set[tuple[str, str]]) -> dict[tuple[str, ...], ast.AST]:
    """Every definition reached from ``roots`` (module, name): key (module, name[, method])."""
    reached: dict[tuple[str, ...], ast.AST] = {}
    attributes: set[str] = set()   # every ``.name`` read by what was reached
    todo = sorted(roots)

    def target(module: str, name: str) -> tuple[str, str] | None:
        seen = set()
        while module in modules and (module, name) not in seen:
            seen.add((module, name))
            found = modules[module]
            if name in found.definitions:
                return module, name
            if name not in found.imports:
                return None
            module, original = found.imports[name]
            if original is None or f"{module}.{original}" in modules:   # a module, not a name in one
                return None
            name = original
        return None

    def methods(key: tuple[str, ...], names: set[str]) -> list[tuple[str, str, str]]:
        node = modules[key[0]].definitions[key[1]]
        return [(key[0], key[1], n.name) for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                and (n.name in names or n.name in ("__init__", "__post_init__", "__call__", "forward"))]

    while todo:
        key = todo.pop()
        if key in reached or key[0] not in modules:
            continue
        module = modules[key[0]]
        node = module.definitions[key[1]] if len(key) == 2 else next(
            n for n in module.definitions[key[1]].body if getattr(n, "name", None) == key[2])
        reached[key] = node
        if isinstance(node, ast.ClassDef):   # its bases and its body outside the methods
            body = [n for n in node.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            walked = [*node.bases, *body, *node.decorator_list]
            todo += methods(key, attributes)
        else:
            walked = [node]
        new_attributes = set()
        for part in walked:
            for sub in ast.walk(part):
                if isinstance(sub, ast.Name):
                    found = target(module.name, sub.id)
                    todo += [found] if found else []
                elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                    imported = module.imports.get(sub.value.id)
                    if imported and (imported[1] is None or f"{imported[0]}.{imported[1]}" in modules):
                        source = imported[0] if imported[1] is None else f"{imported[0]}.{imported[1]}"
                        found = target(source, sub.attr)
                        todo += [found] if found else []
                if isinstance(sub, ast.Attribute):
                    new_attributes.add(sub.attr)
        new_attributes -= attributes
        attributes |= new_attributes
        for other in [k for k, n in reached.items() if len(k) == 2 and isinstance(n, ast.ClassDef)]:
            todo += methods(other, new_attributes)   # a method of a reached class, called by name on any object
    return reached


def notebook_roots(modules: dict[str, Module]) -> set[tuple[str, str]]:
    """The helpers definitions notebook 01's code names: ``module.name`` and names imported from helpers."""
    code = "\n".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code")
    tree = ast.parse("\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
    imported: dict[str, str] = {}
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in modules:
                    imported[alias.asname or alias.name] = full
                elif alias.name in modules[node.module].definitions:
                    roots.add((node.module, alias.name))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported:
            if node.attr in modules[imported[node.value.id]].definitions:
                roots.add((imported[node.value.id], node.attr))
    return roots


def measure() -> tuple[dict[str, int], int]:
    """Lines reached per file (helpers/…), and their total."""
    modules = {m.name: m for m in (Module(p) for p in sorted((ROOT / "helpers").rglob("*.py")))
               if m.path.relative_to(ROOT).as_posix() not in SKIPPED}
    reached = closure(modules, notebook_roots(modules))
    lines: dict[str, int] = {}
    for key, node in reached.items():
        path = modules[key[0]].path.relative_to(ROOT).as_posix()
        if isinstance(node, ast.ClassDef):
            methods = sum(span(n) for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
            count = span(node) - methods
        else:
            count = span(node)
        lines[path] = lines.get(path, 0) + count
    return dict(sorted(lines.items(), key=lambda item: -item[1])), sum(lines.values())


def table() -> str:
    lines, total = measure()
    rows = "\n".join(f"| `{path}` | {count} |" for path, count in lines.items())
    return (f"| file | lines reached from notebook 01 |\n|---|---|\n{rows}\n| **{len(lines)} files** | **{total}** |")


PAGE = ROOT / "docs" / "architecture.md"
MARKERS = ("<!-- reading-path:begin -->\n", "\n<!-- reading-path:end -->")


if __name__ == "__main__":
    print(table())
    if "--write" in sys.argv[1:]:
        sys.path.insert(0, str(ROOT))
        from helpers.io import replace_marked_block
        replace_marked_block(PAGE, *MARKERS, table())
    sys.exit(0)
