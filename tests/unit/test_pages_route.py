"""Every page asks for the router before it does anything (`through_router()`, its first statement after the
imports), and app.py lists every page file: a page opened as a fresh server's first request then starts over
through app.py (tests/browser/test_run_store.py sees it happen in Chromium for every page, on a restarted server)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "pages").glob("*.py"))


def first_statement(path: Path) -> str:
    body = ast.parse(path.read_text()).body
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            continue  # the docstring and the imports
        return ast.unparse(node)
    return ""


def test_every_page_asks_for_the_router_first():
    assert len(PAGES) >= 12
    assert {p.name: first_statement(p) for p in PAGES} == {p.name: "through_router()" for p in PAGES}


def test_app_lists_every_page_and_the_browser_test_opens_each():
    app = (ROOT / "app.py").read_text()
    browser = (ROOT / "tests" / "browser" / "test_run_store.py").read_text()
    for page in PAGES:
        assert f'"pages/{page.name}"' in app, page.name
        path = {"home": ""}.get(page.stem, page.stem)  # the address of each page (app.py's url_path)
        assert f'"{path}"' in browser, page.name
