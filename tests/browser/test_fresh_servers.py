"""Every page as a fresh server's first request (a bookmark, or tabs reconnecting after a restart) goes through the router."""

import pytest

from tests.browser.servers import launch_server, no_exception, wait_healthy

pytestmark = pytest.mark.browser


PAGES = {"": "RNN Playground", "text": "Text", "model": "Model", "train": "Train", "runs": "Runs", "generate": "Generate",
         "hidden_states": "Hidden states", "connectivity": "Connectivity", "gradients": "Gradients",
         "race": "Long-range race", "series": "Time series", "sweeps": "Sweeps", "class": "Class"}


# Every page is one of the first requests of a fresh server, several at once on each (tabs reconnecting together:
# after the first fix all but the first still ran without the router); tests/unit/test_pages_route.py checks that
# every page file asks for the router first.
# The Class page comes first on its server: opened as a fresh server's very first request, Streamlit's frontend looked
# its address up among the pages/ files before the router answered, and showed "Page not found" over the page while
# the file was pages/classroom.py (the address is /class: the join and board links).
GROUPS = [("class", "", "text", "model", "train", "runs", "generate"),
          ("hidden_states", "connectivity", "gradients", "race", "series", "sweeps")]
LINK_SETTING = "epochs=7"


def routed(pg, heading: str) -> None:
    """The page came through the router: its heading, the router's menu with titles, no traceback, no file names, and
    app.py's address sync ran."""
    pg.get_by_role("heading", name=heading, exact=True).first.wait_for()
    pg.get_by_role("link", name="Long-range race", exact=True).wait_for()
    no_exception(pg)
    assert pg.get_by_text("Page not found").count() == 0, f"{heading}: Streamlit's Page not found dialog"
    assert pg.get_by_role("link", name="hidden states", exact=True).count() == 0
    # app.py mirrored the session into the address: the link's setting is kept and the unknown key dropped (a fresh
    # session with nothing to save has no workspace token yet, N19)
    pg.wait_for_function(f"() => /[?&]{LINK_SETTING}(&|$)/.test(location.search) && !/stale=/.test(location.search)")


def test_every_page_works_as_a_fresh_servers_first_request(tmp_path, browser):
    """A bookmark, or every tab reconnecting after a restart: the first requests of a new server open pages directly.
    Two fresh servers side by side, each opened by several pages at the same moment. Streamlit's old pages/ mode ran such a page without app.py: a
    traceback, and raw file names as the menu; with several tabs at once, all but the first still did after the
    first fix."""
    servers = [launch_server(tmp_path / f"{i}.log", {"RNN_PLAYGROUND_WARM_WORKERS": "0"}) for i in range(len(GROUPS))]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        context.set_default_timeout(90_000)
        for i, (proc, url) in enumerate(servers):
            wait_healthy(proc, url, tmp_path / f"{i}.log")
        tabs = []
        for (_, url), group in zip(servers, GROUPS):  # opened one right after the other: the first runs overlap
            for path in group:
                tabs.append((context.new_page(), PAGES[path]))
                tabs[-1][0].goto(f"{url}/{path}?{LINK_SETTING}&stale=1")  # a saved link
        for pg, heading in tabs:
            routed(pg, heading)
    finally:
        context.close()
        for proc, _ in servers:
            proc.terminate()
        for proc, _ in servers:
            proc.wait(30)
