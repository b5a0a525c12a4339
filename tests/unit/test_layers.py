"""The layer rules, read from the source (AST, lazy imports inside functions included), so the layout cannot decay:
no import cycle, no `_private` name imported from another module, core never imports streamlit, the training loop
never imports the workers or the store, the store never imports the workers, and figures import nothing from
core but their own style, the vocabulary's display helpers and the cell table."""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "ui", "pages")


def _modules() -> dict[str, Path]:
    found = {"app": ROOT / "app.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import in the file, resolved to this project's modules."""
    out = []
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [a.name for a in node.names]
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in MODULES]
            out += [(s, [], node.lineno) for s in submodules]
            rest = [n for n in names if f"{base}.{n}" not in MODULES]
            if rest or not submodules:
                out.append((base, rest, node.lineno))
    return out


def _graph() -> dict[str, set[str]]:
    graph = defaultdict(set)
    for name, path in MODULES.items():
        for target, _, _ in _imports(name, path):
            while target and target not in MODULES:  # `import core.nn.tf` reaches core.nn.tf; `core.x.y` names an attribute
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + ".") and target not in PACKAGES:
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def _offenders(rule) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {target} {names or ''}".rstrip()
            for name, path in MODULES.items() for target, names, line in _imports(name, path) if rule(name, target, names)]


def test_the_files_are_found():
    assert {"app", "core.settings", "core.training.trainer", "core.figures.style", "ui"} <= set(MODULES)


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_another_modules_private_names():
    assert _offenders(lambda name, target, names: any(n.startswith("_") and not n.startswith("__") for n in names)) == []


def test_core_never_imports_streamlit():
    assert _offenders(lambda name, target, names: name.startswith("core") and target.split(".")[0] == "streamlit") == []


def test_the_training_loop_never_imports_the_workers_or_the_store():
    assert _offenders(lambda name, target, names: name.startswith("core.training")
                      and target.startswith(("core.workers", "core.runs", "ray"))) == []


def test_only_the_workers_and_the_server_glue_import_the_workers():
    """core.workers is the process boundary: the engine below it (text, nn, training, inspection, race, forecast,
    figures) and the store never import it; only ui/, pages/ and app.py do."""
    assert _offenders(lambda name, target, names: name.startswith("core.") and not name.startswith("core.workers")
                      and target.startswith("core.workers")) == []


def test_figures_take_arrays():
    allowed = ("core.figures", "core.text.vocabulary", "core.cells")
    assert _offenders(lambda name, target, names: name.startswith("core.figures") and target.startswith("core")
                      and not target.startswith(allowed)) == []


def _tf_function_calls(source: str, where: str = "<test>") -> list[str]:
    """The lines of `source` that compile with `tf.function` itself (a decorator, called or bare, or a call)."""
    out = []
    for node in ast.walk(ast.parse(source, where)):
        bare = [d for d in getattr(node, "decorator_list", []) if ast.unparse(d) == "tf.function"]
        if bare or (isinstance(node, ast.Call) and ast.unparse(node.func) == "tf.function"):
            out.append(f"{where}:{node.lineno}")
    return out


def test_every_graph_skips_autograph():
    """A process's first AutoGraph conversion costs 2.3 s of CPU (a worker's warm-up 3.7 s against 1.1 s, bench/autograph.py),
    and nothing here needs it; so every graph is compiled with `core.nn.tf.graph` (tf.function without AutoGraph), the
    one place that calls tf.function."""
    assert _tf_function_calls("@tf.function\ndef f(): pass\ng = tf.function(f, reduce_retracing=True)\n"
                              "@graph(reduce_retracing=True)\ndef h(): pass") == ["<test>:2", "<test>:3"]
    assert [line for name, path in MODULES.items() if name != "core.nn.tf"
            for line in _tf_function_calls(path.read_text(), str(path.relative_to(ROOT)))] == []
