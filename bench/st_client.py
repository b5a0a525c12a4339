"""A light Streamlit client for benches: one browser tab's session over Streamlit's own websocket, without a browser.

A few MB and a little CPU per session instead of a Chromium renderer each, so a bench can put thirty students on one
server. It speaks the subset of the protocol the frontend uses for what a student does (open a page, type, press,
change page, watch the page redraw itself), with the protobufs of the installed `streamlit` package:

Connecting: a websocket to `ws://HOST:PORT/_stcore/stream`. Every message in either direction is one serialized
protobuf: the client sends `BackMsg`, the server sends `ForwardMsg`.

Asking for a script run: `BackMsg.rerun_script`, a `ClientState` with
  - `query_string`: the page's query string without "?" (the app reads it as `st.query_params`);
  - `page_script_hash`: the page to run; the first request sends "" and `page_name` = the address's path ("class",
    "train"; "" for the default page) instead, as the frontend does for an address typed into the browser;
  - `widget_states`: a `WidgetStates` list of `WidgetState(id=..., <value>)`. The frontend sends the value of every
    widget on the page; a button press adds `trigger_value=True` for that button in that one request only (the server
    resets triggers after the run). A form's submit sends the form's pending values with the submit button's trigger.
    Here: the values this client set, for widgets still on the page, plus the request's triggers. Values the client
    never set stay as the server keeps them (`SessionState` keeps widgets missing from a request);
  - `fragment_id` and `is_auto_rerun` for a fragment's own timer (below);
  - `context_info.url` (the app's `st.context.url`), timezone and locale.
No `cached_message_hashes` are sent, so the server never answers with a `ref_hash` to a message it thinks is cached.

Reading the page: `ForwardMsg`s of one run arrive as
  - `new_session` starts a run; its `metadata.run` carries `script_run_id` and, for a fragment's run, `fragment_ids`.
    Every delta that follows belongs to that run. A full run (no fragment ids) cancels every fragment timer, as the
    frontend's `cleanupAutoReruns` does.
  - `navigation`: the app's pages (`app_pages`: `url_pathname` -> `page_script_hash`) and the page being run.
  - `delta` with `metadata.delta_path` (the element's place in the tree: container, then indices): `new_element`
    (an `Element`: markdown, alert, heading, progress, button, text_input, number_input, plotly_chart, dataframe,
    exception, ...) or `add_block` (a container) at that path. Widgets carry their `id` (what `WidgetState.id` names)
    and `label`; a button in a form has `is_form_submitter`.
  - `page_info_changed.query_string`: the app changed `st.query_params`; it is sent back with the next request.
  - `auto_rerun` (`interval`, `fragment_id`): an `st.fragment(run_every=...)`; the client then sends `rerun_script`
    with that `fragment_id` and `is_auto_rerun=True` every `interval` seconds (widget values included), until
    `stop_auto_rerun` names it or a full run starts. `st.rerun(scope="app")` from a fragment arrives as a full run.
  - `script_finished`: the run ended. After a full run the elements it did not draw are dropped; after a fragment's
    run, those of that fragment it did not draw (the frontend's `clearStaleNodes`).
`session_status_changed`, `page_config_changed`, `logo` and the rest are read and ignored.

What it does not do: media files (images arrive as URLs and are not fetched), custom components, file uploads,
dataframes' lazy chunks beyond the first, `ref_hash` messages (counted in `refs`; none arrive without cache hashes).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Callable, Iterator

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.WidgetStates_pb2 import WidgetState

log = logging.getLogger(__name__)
WIDGETS = ("button", "text_input", "number_input", "download_button", "selectbox", "checkbox", "text_area", "slider")


@dataclass
class Node:
    """One element (or container) of the page, as the frontend keeps it."""

    element: Element | None  # None for a container (add_block)
    run: str  # the script run that drew it
    fragment: str  # the fragment that drew it ("" outside fragments)
    kind: str  # the Element's oneof ("markdown", "button", ...), "block" for a container


def text_of(node: Node) -> str:
    """The words an element shows (what a person reads, or a widget's label)."""
    e, kind = node.element, node.kind
    if e is None:
        return ""
    if kind in ("markdown", "alert", "heading", "text"):
        return getattr(e, kind).body
    if kind == "progress":
        return e.progress.text
    if kind == "code":
        return e.code.code_text
    if kind == "metric":
        return f"{e.metric.label} {e.metric.body}"
    if kind == "exception":
        return f"{e.exception.type}: {e.exception.message}"
    if kind == "page_link":
        return e.page_link.label
    if kind in WIDGETS:
        return getattr(e, kind).label
    return ""


def plotly_values(values) -> list:
    """A Plotly trace's `x` or `y` as a list: plain JSON, or Plotly 6's typed array {"dtype", "bdata"} (base64)."""
    if isinstance(values, dict) and "bdata" in values:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"])).tolist()
    return list(values or [])


class Session:
    """One session of a Streamlit app, as one browser tab: `await open()`, then drive it and read its page.

    Args:
        base: the server's address, "http://127.0.0.1:8501".
        path: the page's address path ("class", "train"; "" for the default page).
        query: the address's query string, without "?".
        name: for logs.
    """

    def __init__(self, base: str, path: str = "", query: str = "", name: str = ""):
        self.base, self.path, self.query, self.name = base.rstrip("/"), path, query, name or path or "session"
        self.nodes: dict[tuple[int, ...], Node] = {}
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash
        self.page_hash = ""  # the page the last full run drew
        self.run_id, self.fragments_now = "", ()  # the run under way and its fragment ids (empty: a full run)
        self.full_runs = 0  # full runs finished (an interaction waits for the next one)
        self.exceptions: list[str] = []  # every exception element ever drawn, "Type: message"
        self.errors: list[str] = []  # every st.error ever drawn
        self.refs = 0  # ref_hash messages (a cached message the client does not have)
        self.bytes_in = 0
        self.on_message: Callable[[Session, ForwardMsg], None] | None = None  # after each message (a bench's probe)
        self._values: dict[str, WidgetState] = {}  # widget values this client set, by widget id
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._changed = asyncio.Condition()
        self._ws = None
        self._reader: asyncio.Task | None = None
        self.closed = False

    # ---- connection ----
    async def open(self, timeout: float = 120) -> None:
        """Connect and ask for the first run of the page, as a browser does on loading the address."""
        from websockets.asyncio.client import connect

        url = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        self._ws = await connect(url, max_size=None, open_timeout=timeout, ping_interval=None, close_timeout=2)
        self._reader = asyncio.create_task(self._read(), name=f"read {self.name}")
        await self._send_rerun()

    async def close(self) -> None:
        """Close the websocket (the server ends the session) and stop the timers."""
        self.closed = True
        for _, task in self._timers.values():
            task.cancel()
        self._timers.clear()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                self.bytes_in += len(raw)
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._apply(msg)
                if self.on_message is not None:
                    self.on_message(self, msg)
                async with self._changed:
                    self._changed.notify_all()
        except asyncio.CancelledError:
            raise
        except Exception:  # the connection closed or broke: say so once, the waiters time out
            if not self.closed:
                log.exception("%s: the websocket ended", self.name)
        finally:
            self.closed = True
            async with self._changed:
                self._changed.notify_all()

    # ---- what the server sends ----
    def _apply(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.run_id, self.fragments_now = msg.metadata.run.script_run_id, tuple(msg.metadata.run.fragment_ids)
            if not self.fragments_now:
                self._stop_timers(list(self._timers))
                self.page_hash = msg.new_session.page_script_hash or self.page_hash
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            self.page_hash = msg.navigation.page_script_hash
        elif kind == "delta":
            self._delta(msg)
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            self._start_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            self._stop_timers(list(msg.stop_auto_rerun.fragment_ids))
        elif kind == "script_finished":
            self._finished(msg.script_finished)
        elif kind == "ref_hash":
            self.refs += 1

    def _delta(self, msg: ForwardMsg) -> None:
        path, delta = tuple(msg.metadata.delta_path), msg.delta
        which = delta.WhichOneof("type")
        if which == "new_element":
            element = delta.new_element
            node = Node(element, self.run_id, delta.fragment_id, element.WhichOneof("type") or "")
            if node.kind == "exception":
                self.exceptions.append(text_of(node))
            elif node.kind == "alert" and element.alert.format == element.alert.ERROR:
                self.errors.append(element.alert.body)
            self.nodes[path] = node
        elif which == "add_block":
            self.nodes[path] = Node(None, self.run_id, delta.fragment_id, "block")

    def _finished(self, status: int) -> None:
        if status == ForwardMsg.FINISHED_SUCCESSFULLY:
            self.nodes = {p: n for p, n in self.nodes.items() if n.run == self.run_id}
            self.full_runs += 1
        elif status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
            self.nodes = {p: n for p, n in self.nodes.items()
                          if n.run == self.run_id or n.fragment not in self.fragments_now}

    def _start_timer(self, fragment: str, interval: float) -> None:
        if not fragment or (fragment in self._timers and self._timers[fragment][0] == interval):
            return
        self._stop_timers([fragment])

        async def tick() -> None:
            while not self.closed:
                await asyncio.sleep(interval)
                await self._send_rerun(fragment=fragment, auto=True)

        self._timers[fragment] = (interval, asyncio.create_task(tick(), name=f"{self.name} {fragment}"))

    def _stop_timers(self, fragments: list[str]) -> None:
        for fragment in fragments:
            found = self._timers.pop(fragment, None)
            if found is not None:
                found[1].cancel()

    # ---- what the client sends ----
    async def _send_rerun(self, triggers: list[WidgetState] = (), values: list[WidgetState] = (),
                          page: str | None = None, fragment: str = "", auto: bool = False) -> None:
        if self.closed:
            return
        for v in values:
            self._values[v.id] = v
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        if page is not None:
            state.page_script_hash = page
        elif self.page_hash:
            state.page_script_hash = self.page_hash
        else:
            state.page_name = self.path
        state.fragment_id, state.is_auto_rerun = fragment, auto
        on_page = {self.widget_id(n) for n in self.nodes.values()} if page is None else set()
        for wid, value in self._values.items():
            if wid in on_page or wid in {v.id for v in values}:
                state.widget_states.widgets.add().CopyFrom(value)
        for t in triggers:
            state.widget_states.widgets.add().CopyFrom(t)
        state.context_info.url = f"{self.base}/{self.path}" + (f"?{self.query}" if self.query else "")
        state.context_info.timezone, state.context_info.timezone_offset, state.context_info.locale = "UTC", 0, "en-US"
        try:
            await self._ws.send(msg.SerializeToString())
        except Exception:
            if not self.closed:
                log.exception("%s: a rerun could not be sent", self.name)
            self.closed = True

    @staticmethod
    def widget_id(node: Node) -> str:
        return getattr(node.element, node.kind).id if node.kind in WIDGETS else ""

    def widget(self, kind: str, label: str) -> Element | None:
        """The widget of this kind with this label on the page (its `Element`), or None."""
        for node in self.nodes.values():
            if node.kind == kind and getattr(node.element, kind).label == label:
                return node.element
        return None

    async def _interact(self, triggers: list[WidgetState], values: list[WidgetState], timeout: float,
                        page: str | None = None) -> None:
        """Send one request and wait until the full run it causes has finished."""
        before = self.full_runs
        await self._send_rerun(triggers, values, page)
        await self.wait_for(lambda: self.full_runs > before, timeout, "the run after an interaction")

    async def press(self, label: str, timeout: float = 120) -> None:
        """Press the button `label` (a form's submit button too) and wait for the run it starts to finish."""
        button = self.widget("button", label)
        if button is None:
            raise LookupError(f"{self.name}: no button {label!r} on the page: {self.texts()[:20]}")
        values = []
        if button.button.is_form_submitter:  # the form's pending values travel with its submit
            values = [v for v in self._values.values() if self._form_of(v.id) == button.button.form_id]
        await self._interact([WidgetState(id=button.button.id, trigger_value=True)], values, timeout)

    def _form_of(self, wid: str) -> str:
        for node in self.nodes.values():
            if self.widget_id(node) == wid:
                return getattr(node.element, node.kind).form_id
        return ""

    async def type(self, label: str, text: str, timeout: float = 120) -> None:
        """Type `text` into the text input `label`: in a form it waits for the submit, else it reruns (Enter)."""
        element = self.widget("text_input", label)
        if element is None:
            raise LookupError(f"{self.name}: no text input {label!r} on the page")
        value = WidgetState(id=element.text_input.id, string_value=text)
        if element.text_input.form_id:
            self._values[value.id] = value
        else:
            await self._interact([], [value], timeout)

    async def set_number(self, label: str, number: float, timeout: float = 120) -> None:
        """Type `number` into the number input `label` and press Enter (one rerun)."""
        element = self.widget("number_input", label)
        if element is None:
            raise LookupError(f"{self.name}: no number input {label!r} on the page")
        w = element.number_input
        value = (WidgetState(id=w.id, int_value=int(number)) if w.data_type == NumberInput.INT
                 else WidgetState(id=w.id, double_value=float(number)))
        await self._interact([], [value], timeout)

    async def goto(self, url_path: str, timeout: float = 120) -> None:
        """Go to another page of the app (a click in the sidebar or on a page link), keeping the query string."""
        if url_path not in self.pages:
            raise LookupError(f"{self.name}: no page {url_path!r} among {sorted(self.pages)}")
        self.path = url_path
        await self._interact([], [], timeout, page=self.pages[url_path])

    # ---- reading the page ----
    def elements(self, kind: str | None = None) -> Iterator[Node]:
        """The page's elements in page order (of one kind when given)."""
        for path in sorted(self.nodes):
            node = self.nodes[path]
            if kind is None or node.kind == kind:
                yield node

    def texts(self) -> list[str]:
        return [t for t in (text_of(n) for n in self.elements()) if t]

    def has_text(self, words: str) -> bool:
        return any(words in t for t in self.texts())

    def plotly_specs(self) -> list[dict]:
        """The page's Plotly figures, parsed."""
        return [json.loads(n.element.plotly_chart.spec) for n in self.elements("plotly_chart")]

    def tables(self) -> list[list[dict]]:
        """The page's dataframes, as lists of row dicts (a lazy dataframe's first chunk)."""
        import pyarrow as pa

        out = []
        for n in self.elements("dataframe"):
            df = n.element.dataframe
            data = df.arrow_data.data if df.HasField("arrow_data") else df.lazy_data.initial_chunk.data
            out.append(pa.ipc.open_stream(data).read_all().to_pylist() if data else [])
        return out

    async def wait_for(self, check: Callable[[], object], timeout: float, what: str = "the page") -> object:
        """Wait until `check()` is true (checked after every message); return its value. TimeoutError names `what`."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                found = check()
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise TimeoutError(f"{self.name}: {what} did not come within {timeout:.0f} s"
                                       + (" (the websocket closed)" if self.closed else "")
                                       + f"; the page shows: {self.texts()[:12]}")
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except asyncio.TimeoutError:
                    pass
