"""The exported script as a Jupyter notebook: the same code in cells, each under a short explanation.

The script marks its sections with `# %% Title` lines (the "percent" format editors know), each followed by
comment lines that explain it. Each section becomes a Markdown cell (the title and the explanation) and a code
cell (the rest), so the notebook and the script cannot drift apart.
"""

from __future__ import annotations

import ast
import re

MARKER = re.compile(r"^# %% (.+)$", re.MULTILINE)


def sections(script: str) -> tuple[str, list[tuple[str, str, str]]]:
    """(the module docstring, [(title, explanation, code), ...]) of a script made of `# %%` sections."""
    parts = MARKER.split(script)
    intro = ast.get_docstring(ast.parse(parts[0])) or ""
    found = []
    for title, body in zip(parts[1::2], parts[2::2]):
        lines = body.strip("\n").splitlines()
        n = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
        explanation = " ".join(line.lstrip("# ").strip() for line in lines[:n])
        found.append((title.strip(), explanation, "\n".join(lines[n:]).strip("\n")))
    return intro, found


def notebook(script: str, title: str) -> str:
    """The notebook of `script`, as the JSON text of an nbformat 4 file (run its cells from the top).

    Args:
        script: a script from `core.export.script`.
        title: the notebook's heading.
    """
    import nbformat
    from nbformat import v4

    intro, parts = sections(script)
    intro = intro.replace("`python train.py`", "run the cells from the top").replace("Run it in this folder", "Open it in this folder")
    cells = [v4.new_markdown_cell(f"# {title}\n\n{intro}")]
    for name, explanation, code in parts:
        cells.append(v4.new_markdown_cell(f"## {name}\n\n{explanation}"))
        cells.append(v4.new_code_cell(code))
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(nb)
    return nbformat.writes(nb)
