"""A class on one server: N students join one link and train the class's setup at once, a board open throughout.

    .venv/bin/python bench/classroom.py --students 30              # the Quick demo setup, light clients
    .venv/bin/python bench/classroom.py --students 30 --chromium 3  # 3 of the 30 in real Chromium tabs
    .venv/bin/python bench/classroom.py --students 2 --tiny         # a tiny model and a few steps, for development

What it does, in order, on one `streamlit run app.py` with a data folder of its own (a temporary folder):
1. A teacher (a light client, `bench/st_client.py`) opens the Class page with the setup in the address (the Quick
   demo's model and train settings, `core.config.QUICK_DEMO` and `QUICK_DEMO_TRAIN`; with `--tiny` a 16-unit model
   and 12 steps) and presses **Start a class** twice, through the page (not the store): a reference class for step 3
   and the class of the bench. It waits until the training gate has opened (the server's log says "Up to K trainings
   at once": K, the slots) and the server has gone quiet (Ray and its warm workers started).
2. The class's board (`/class?board=...`) opens in a light client and stays open to the end.
3. One alone: one student joins the reference class and trains alone (press Start -> "Training finished").
4. N students join the class, each sets a learning rate of its own (log-spaced 0.001 .. 0.03) and, once all are
   ready, all press **Start training** at once. Each student's steps are a person's: open the join link, type "Your
   name", press **Join**; open the Train page; type the learning rate (Enter); press **Start training**; watch the
   page until it says "Training finished". `--chromium K` drives K of them in real Chromium tabs (one browser, a
   context each; every N/K-th student, so they are spread through the presses), the others through the light client,
   so both can be compared. The presses go out in the students' order within a fraction of a second, but the server
   runs each session's script in a thread of its own, so the order they reach the training queue is the server's.
   A Chromium tab draws every live chart on this same machine: its CPU is taken from the trainings.

The Train page is opened from a second address, `/train?ws=<the student's workspace>&<the class's setup>`: the
address carries the setup, and a session's first request applies the settings in its address. Since 1e5716e the join
alone brings the class's settings into the student's session too (before it, `ui.workspace._bring_back` read keys the
workspace does not keep, and a student who only joined trained the defaults), so the second address changes nothing;
it stays so the bench also runs against older trees. The report counts the runs whose settings are the class's.

Numbers (nothing passes or fails on time; the targets for 2 cores and 30 students are printed beside them):
- finished: students whose page said "Training finished", and how many pages ever showed an exception element;
- wall time from the first press to the last "Training finished", against the limit N x (one alone) / slots;
- each student's wait (press -> the first "step k of ..." with k >= 1 on their page) and time to the first loss
  chart with a point, min / median / max;
- the board's staleness, measured three ways. A thread reads the store every 0.25 s (each student's latest run: its
  status and its last recorded step); the board client notes, at each redraw, every student's status in the table and
  the last step of every curve in the loss chart; each student's client notes the step its own page shows. Then
  (a) board behind the student's own page: for every step k a page showed, the time until the board's curve of that
  student reached k; (b) board behind the store: the same for every step the store held; (c) status changes: the
  time from the store holding a new status (running, finished) until the board's table shows it. Median, 95th
  percentile and max over all of them; and the time between the board's redraws. The page and the board are read the
  moment their messages arrive, so (a) is how far the projector lags what each student sees;
- the server process's CPU seconds during the class and its largest RSS, and the largest RSS of each Ray worker
  (`bench.load.Memory`); the cores Ray and its workers used while one trained alone and during the class (a training
  alone that already uses more than one core cannot run `slots` times as fast side by side, which the limit assumes);
  the bench's own CPU (the light clients, Chromium with --chromium) is printed too: it shares the machine.
`--save FILE` also writes every series these numbers come from (JSON, seconds from the first press).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import math
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.load import CHROMIUM, Memory, free_port  # noqa: E402
from bench.st_client import Session, plotly_values  # noqa: E402
from core.config import QUICK_DEMO, QUICK_DEMO_TRAIN, to_query  # noqa: E402

TINY = dict(rnn_units=16, embedding_dim=8, batch_size=8, seq_len=16, epochs=2, max_steps_per_epoch=6)
STEP = re.compile(r"step ([\d,]+) of ([\d,]+)")
PLACE = re.compile(r"Yours is (\d+)")
CURVES = "Training loss of every student"
ORDER = {"waiting": 0, "running": 1, "training": 1, "finished": 2}  # how far a run has got (the board says "training")


@dataclass
class Student:
    """One student's steps and what their page showed, in monotonic seconds."""

    name: str
    lr: float
    kind: str  # "light" or "chromium"
    token: str = ""  # their workspace
    pressed: float | None = None  # Start training sent
    running: float | None = None  # the first "step k of ..." with k >= 1
    chart: float | None = None  # the first loss chart with a point
    finished: float | None = None  # "Training finished"
    place: int | None = None  # the first queue place the page told
    exceptions: int = 0  # exception elements its pages drew
    errors: list[str] = field(default_factory=list)  # st.error sentences its pages drew
    steps: list[tuple[float, int]] = field(default_factory=list)  # (when, step) each time its page's step changed
    failure: str = ""  # the bench could not drive it (a timeout, a closed connection)
    session: Session | None = None
    page: object = None  # its Chromium page

    def saw_step(self, now: float, step: int) -> None:
        if not self.steps or step != self.steps[-1][1]:
            self.steps.append((now, step))
        if step >= 1 and self.running is None and self.pressed is not None:
            self.running = now


def probe(student: Student):
    """The light client's probe: reads each new element of the Train page as it arrives."""

    def on_message(s: Session, msg) -> None:
        if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
            return
        e, now = msg.delta.new_element, time.monotonic()
        kind = e.WhichOneof("type")
        if kind == "progress":
            m = STEP.search(e.progress.text)
            if m:
                student.saw_step(now, int(m.group(1).replace(",", "")))
        elif kind == "alert":
            if "Training finished" in e.alert.body and student.finished is None and student.pressed is not None:
                student.finished = now
            m = PLACE.search(e.alert.body)
            if m and student.place is None:
                student.place = int(m.group(1))
        elif kind == "plotly_chart" and student.chart is None and student.pressed is not None:
            spec = json.loads(e.plotly_chart.spec)
            if any(len(plotly_values(t.get("x"))) for t in spec.get("data", []) if t.get("name") == "train loss"):
                student.chart = now

    return on_message


class Board:
    """The board's light client and what it showed: per redraw, every student's status and latest curve step."""

    def __init__(self, session: Session):
        self.session = session
        self.status: dict[str, list[tuple[float, str]]] = {}  # name -> (when, status) at each change
        self.steps: dict[str, list[tuple[float, int]]] = {}  # name -> (when, last step of its curve) at each change
        self.redraws: list[float] = []  # when each of the board's fragment runs finished
        session.on_message = self._on_message

    def _on_message(self, s: Session, msg) -> None:
        kind, now = msg.WhichOneof("type"), time.monotonic()
        if kind == "script_finished":
            if msg.script_finished == msg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:  # the live table and charts, each 1 s
                self.redraws.append(now)
            return
        if kind != "delta" or msg.delta.WhichOneof("type") != "new_element":
            return
        e = msg.delta.new_element
        which = e.WhichOneof("type")
        if which == "dataframe":
            df = e.dataframe
            data = df.arrow_data.data if df.HasField("arrow_data") else df.lazy_data.initial_chunk.data
            for row in pa.ipc.open_stream(data).read_all().to_pylist() if data else []:
                _note(self.status, row.get("name"), now, row.get("status"))
        elif which == "plotly_chart":
            spec = json.loads(e.plotly_chart.spec)
            if CURVES not in str(spec.get("layout", {}).get("title")):
                return
            for trace in spec.get("data", []):
                x = plotly_values(trace.get("x"))
                if trace.get("name") and x:
                    _note(self.steps, html.unescape(trace["name"]), now, int(x[-1]))


def _note(series: dict, name, now: float, value) -> None:
    if name is None or value is None:
        return
    seen = series.setdefault(name, [])
    if not seen or seen[-1][1] != value:
        seen.append((now, value))


class Store:
    """Reads the class's students' latest runs from the store every 0.25 s (a read-only SQLite connection)."""

    SQL = ("SELECT s.name, r.status, "
           "COALESCE((SELECT step FROM rows WHERE rows.run = r.id ORDER BY i DESC LIMIT 1), 0) "
           "FROM students s JOIN runs r "
           "ON r.id = (SELECT MAX(id) FROM runs WHERE workspace = s.workspace AND kind = 'text') "
           "WHERE s.class_id = ?")

    def __init__(self, folder: Path, class_id: int):
        self.folder, self.class_id = folder, class_id
        self.status: dict[str, list[tuple[float, str]]] = {}
        self.steps: dict[str, list[tuple[float, int]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        db = sqlite3.connect(f"file:{self.folder / 'store.sqlite'}?mode=ro", uri=True, timeout=5)
        while not self._stop.wait(0.25):
            try:
                found = db.execute(self.SQL, (self.class_id,)).fetchall()
            except sqlite3.Error:
                continue
            now = time.monotonic()
            for name, status, step in found:
                _note(self.status, name, now, status)
                _note(self.steps, name, now, int(step))
        db.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def lags(reference: dict[str, list[tuple[float, int]]], board: dict[str, list[tuple[float, int]]],
         rank=lambda v: v) -> tuple[list[float], int]:
    """For every (when, value) in `reference`, the seconds until the board first showed that value or a later one;
    and how many the board never showed."""
    out, missed = [], 0
    for name, seen in reference.items():
        shown = board.get(name, [])
        for when, value in seen:
            if rank(value) is None or (isinstance(value, int) and value < 1):
                continue
            hit = next((t for t, v in shown if rank(v) is not None and rank(v) >= rank(value) and t >= when - 5), None)
            if hit is None:
                missed += 1
            else:
                out.append(hit - when)
    return out, missed


def spread(values: list[float], unit: str = "s") -> str:
    """"min / median / max" of `values`."""
    v = sorted(x for x in values if x is not None and x == x)
    if not v:
        return "none"
    return f"{v[0]:.1f} / {statistics.median(v):.1f} / {v[-1]:.1f} {unit}"


def tail(values: list[float]) -> str:
    """"median / 95th percentile / max" of `values`."""
    v = sorted(values)
    if not v:
        return "none"
    p95 = v[min(len(v) - 1, math.ceil(0.95 * len(v)) - 1)]
    return f"{statistics.median(v):.2f} / {p95:.2f} / {v[-1]:.2f} s (n={len(v)})"


class Loop:
    """An asyncio loop in a thread of its own, for the light clients; `run` waits for a coroutine's result."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def run(self, coro, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop)


async def start_classes(base: str, setup: str, n: int) -> list[tuple[str, str]]:
    """The teacher: open the Class page with the setup in the address, press Start a class `n` times; each class's
    (join token, board token), oldest first."""
    teacher = Session(base, "class", setup, "teacher")
    await teacher.open()
    await teacher.wait_for(lambda: teacher.widget("button", "Start a class"), 180, "the Start a class button")
    made: list[tuple[str, str]] = []
    for _ in range(n):
        await teacher.press("Start a class")

        def new_links():
            joins = [m.group(1) for t in teacher.texts() for m in [re.search(r"/class\?join=([\w-]+)", t)] if m]
            boards = [m.group(1) for t in teacher.texts() for m in [re.search(r"/class\?board=([\w-]+)", t)] if m]
            fresh = [(j, b) for j, b in zip(joins, boards) if (j, b) not in made]
            return fresh[0] if fresh else None

        made.append(await teacher.wait_for(new_links, 60, "the new class's links"))
    if teacher.exceptions:
        raise RuntimeError(f"The teacher's page drew an exception: {teacher.exceptions[0]}")
    await teacher.close()
    return made


async def light_prepare(base: str, join: str, setup: str, st: Student, timeout: float) -> None:
    """A light client's student up to the press: join, open the Train page with the setup, type the learning rate."""
    s = Session(base, "class", f"join={join}", st.name)
    try:
        await s.open()
        # the whole form: on a busy server the first run's name box can arrive a moment before its Join button
        await s.wait_for(lambda: s.widget("text_input", "Your name") and s.widget("button", "Join"), timeout,
                         "the join form")
        await s.type("Your name", st.name)
        await s.press("Join", timeout)
        await s.wait_for(lambda: s.has_text(f"Welcome, {st.name}"), timeout, "the welcome")
        st.token = re.search(r"(?:^|&)ws=([\w-]+)", s.query).group(1)
    finally:
        st.exceptions += len(s.exceptions)
        st.errors += s.errors
        await s.close()
    t = Session(base, "train", f"ws={st.token}&{setup}", st.name)
    st.session = t
    await t.open()
    await t.wait_for(lambda: t.widget("button", "Start training"), timeout, "the Start training button")
    await t.set_number("Learning rate", st.lr, timeout)
    t.on_message = probe(st)


async def light_press(st: Student, timeout: float) -> None:
    st.pressed = time.monotonic()
    await st.session.press("Start training", timeout)


def chromium_prepare(browser, base: str, join: str, setup: str, st: Student, timeout: float) -> None:
    """A Chromium tab's student up to the press (the steps of tests/browser's class test)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(timeout * 1000)
    pg = context.new_page()
    pg.goto(f"{base}/class?join={join}")
    pg.get_by_label("Your name").fill(st.name)
    pg.get_by_role("button", name="Join").click()
    pg.get_by_text(f"Welcome, {st.name}").wait_for()
    st.token = re.search(r"[?&]ws=([\w-]+)", pg.url).group(1)
    st.exceptions += pg.locator("[data-testid='stException']").count()
    pg.goto(f"{base}/train?ws={st.token}&{setup}")
    lr = pg.get_by_label("Learning rate")
    lr.fill(f"{st.lr:.4f}")
    lr.press("Enter")
    if st.lr != QUICK_DEMO_TRAIN.learning_rate:  # the address leaves out a setting at its default
        pg.wait_for_function(f"() => location.search.includes('learning_rate={st.lr:g}')")
    st.page = pg


CHROMIUM_PROBE = """() => {
  const text = document.body.textContent, step = text.match(/step ([\\d,]+) of/), place = text.match(/Yours is (\\d+)/);
  const lines = [...document.querySelectorAll("[data-testid='stPlotlyChart'] .scatterlayer .trace path.js-line")];
  return {step: step ? parseInt(step[1].replace(/,/g, '')) : null, finished: text.includes('Training finished'),
          chart: lines.some(p => (p.getAttribute('d') || '').length > 2), place: place ? parseInt(place[1]) : null,
          exceptions: document.querySelectorAll("[data-testid='stException']").length};
}"""


def chromium_poll(st: Student) -> None:
    """Read a Chromium student's page once."""
    try:
        seen = st.page.evaluate(CHROMIUM_PROBE)
    except Exception as err:  # a page that navigates or closes: try again next time
        st.failure = str(err)[:200]
        return
    st.failure = ""
    now = time.monotonic()
    if seen["step"] is not None:
        st.saw_step(now, seen["step"])
    if seen["chart"] and st.chart is None:
        st.chart = now
    if seen["place"] and st.place is None:
        st.place = seen["place"]
    if seen["finished"] and st.finished is None:
        st.finished = now
    st.exceptions = max(st.exceptions, seen["exceptions"])


def wait_all(students: list[Student], timeout: float) -> None:
    """Until every student finished (or failed), polling the Chromium pages four times a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for st in students:
            if st.page is not None and st.finished is None:
                chromium_poll(st)
            if st.session is not None and st.session.closed and st.finished is None and not st.failure:
                st.failure = "its websocket closed"
        if all(st.finished is not None or (st.failure and st.page is None) for st in students):
            return
        time.sleep(0.25)


def settle(proc: psutil.Process, log: Path, most_s: float = 240) -> tuple[int, float]:
    """Wait for the gate (its log line) and for the server with its children to go quiet; (slots, seconds waited)."""
    t0, slots = time.monotonic(), None
    while time.monotonic() - t0 < most_s:
        m = re.search(r"Up to (\d+) trainings at once", log.read_text(errors="replace"))
        if m:
            slots = int(m.group(1))
            break
        time.sleep(1)
    if slots is None:
        raise RuntimeError(f"The server never opened its training gate; see {log}")

    before = cpu_of(proc)
    while time.monotonic() - t0 < most_s:
        time.sleep(3)
        now = cpu_of(proc)
        if now - before < 0.3 * 3:  # under a third of a core over 3 s: Ray and its warm workers are ready
            break
        before = now
    return slots, time.monotonic() - t0


def learning_rates(n: int) -> list[float]:
    """n learning rates, log-spaced from 0.001 to 0.03, rounded to 4 decimals as the Train page shows them."""
    return [round(0.001 * 30 ** (i / max(n - 1, 1)), 4) for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--chromium", type=int, default=0, help="how many of the students use real Chromium tabs")
    ap.add_argument("--tiny", action="store_true", help="a 16-unit model and 12 steps (for developing the bench)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the class to finish")
    ap.add_argument("--save", type=Path, help="also write every measured time series here (JSON, seconds from the "
                    "first press), to look into the board's lag")
    args = ap.parse_args()
    if not 0 <= args.chromium <= args.students:
        ap.error(f"--chromium is {args.chromium}; it must be from 0 to --students ({args.students}).")
    settings = (dict(TINY) if args.tiny else to_query(QUICK_DEMO) | to_query(QUICK_DEMO_TRAIN))
    settings.pop("learning_rate", None)
    setup = "&".join(f"{k}={v}" for k, v in settings.items())
    steps = int(settings.get("epochs", 3)) * int(settings.get("max_steps_per_epoch", 0))

    port, data = free_port(), Path(tempfile.mkdtemp(prefix="classroom-bench-"))
    log_path = Path(tempfile.gettempdir()) / "classroom-bench-server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "RNN_PLAYGROUND_DATA": str(data / "data")}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.headless", "true", "--server.address", "127.0.0.1"],
                              cwd=ROOT, stdout=log_path.open("w"), stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    loop, board, store, browser, pw = Loop(), None, None, None, None
    students: list[Student] = []
    try:
        for _ in range(240):
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        proc = psutil.Process(server.pid)
        memory, ray_cpu = Memory(proc), RayCpu(proc)
        (ref_join, _), (join, board_token) = loop.run(start_classes(base, setup, 2), 600)
        slots, warm_s = settle(proc, log_path)
        print(f"Server up; gate open with {slots} slots; quiet after {warm_s:.0f} s", flush=True)
        with sqlite3.connect(f"file:{data / 'data' / 'store.sqlite'}?mode=ro", uri=True) as db:
            class_id = db.execute("SELECT id FROM classes WHERE join_token = ?", (join,)).fetchone()[0]

        board_session = Session(base, "class", f"board={board_token}", "board")
        board = Board(board_session)
        loop.run(board_session.open(), 120)
        loop.run(board_session.wait_for(lambda: board_session.has_text("the board"), 120, "the board"), 130)
        store = Store(data / "data", class_id)

        alone = Student("Alone", 0.005, "light")
        loop.run(light_prepare(base, ref_join, setup, alone, 300), 330)
        ray0 = ray_cpu()
        loop.run(light_press(alone, 300), 330)
        wait_all([alone], args.timeout)
        ray_alone = ray_cpu() - ray0
        loop.run(alone.session.close(), 30)
        if alone.finished is None:
            raise RuntimeError(f"The student training alone did not finish: {alone.failure or alone.errors}")
        one = alone.finished - alone.pressed
        cores = dict(alone=ray_alone / one)
        print(f"One alone: {one:.1f} s", flush=True)

        rates = learning_rates(args.students)
        in_chromium = {round(i * args.students / args.chromium) for i in range(args.chromium)}  # spread in the queue
        students = [Student(f"Student {i + 1:02d}", lr, "chromium" if i in in_chromium else "light")
                    for i, lr in enumerate(rates)]
        light = [st for st in students if st.kind == "light"]
        if args.chromium:
            from playwright.sync_api import sync_playwright

            pw = sync_playwright().start()
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
            for st in students:
                if st.kind == "chromium":
                    chromium_prepare(browser, base, join, setup, st, 300)

        async def prepare_all():
            results = await asyncio.gather(*(light_prepare(base, join, setup, st, 600) for st in light),
                                           return_exceptions=True)
            for st, r in zip(light, results):
                if isinstance(r, BaseException):
                    st.failure = f"{type(r).__name__}: {r}"

        loop.run(prepare_all(), 1800)
        print(f"{sum(not st.failure for st in students)} of {len(students)} students ready; pressing Start", flush=True)

        me = psutil.Process()
        cpu0, me0, ray0, t0 = sum(proc.cpu_times()[:2]), cpu_of(me) - cpu_of(proc), ray_cpu(), time.monotonic()
        presses = []
        for st in students:  # in their order, so the Chromium tabs are spread through the queue
            if st.kind == "light" and not st.failure:
                presses.append((st, loop.start(light_press(st, 600))))
            elif st.kind == "chromium":
                st.pressed = time.monotonic()
                st.page.get_by_role("button", name="Start training").click()
        wait_all(students, args.timeout)
        wall = max((st.finished for st in students if st.finished), default=math.nan) - t0
        cpu1, me1 = sum(proc.cpu_times()[:2]), cpu_of(me) - cpu_of(proc)  # the bench less the server's tree
        cores["class"] = (ray_cpu() - ray0) / wall
        for st, press in presses:
            try:
                press.result(60)
            except Exception as err:
                st.failure = f"{type(err).__name__}: {err}"
        time.sleep(3)  # the board's last redraws
        store.stop()
        memory.stop()
        for st in light:
            if st.session is not None:
                st.exceptions += len(st.session.exceptions)
                st.errors += st.session.errors
        as_class = class_settings_used(data / "data", class_id, settings)
        report(args, students, one, slots, wall, steps, board, store, memory, cpu1 - cpu0, me1 - me0, cores, as_class,
               log_path)
        if args.save:
            save(args.save, t0, students, board, store)
    finally:
        for st in students:
            if st.session is not None:
                loop.start(st.session.close())
        if board is not None:
            loop.start(board.session.close())
        if browser is not None:
            browser.close()
            pw.stop()
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)


class RayCpu:
    """CPU seconds of the server's children (Ray and its training workers), sampled each second so that a process
    that ends keeps what it used until its last sample; call it for the total so far."""

    def __init__(self, server: psutil.Process):
        self.server, self.seen = server, {}
        self._lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            self()
            time.sleep(1)

    def __call__(self) -> float:
        with self._lock:
            try:
                children = self.server.children(recursive=True)
            except psutil.Error:
                children = []
            for p in children:
                try:
                    self.seen[(p.pid, p.create_time())] = sum(p.cpu_times()[:2])
                except psutil.Error:
                    pass
            return sum(self.seen.values())


def cpu_of(process: psutil.Process) -> float:
    """CPU seconds of `process` and its children (Playwright's driver and Chromium, when they run)."""
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += sum(p.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def class_settings_used(folder: Path, class_id: int, settings: dict) -> tuple[int, int]:
    """(runs of the class's students whose model and train settings are the class's but for the learning rate, runs)."""
    with sqlite3.connect(f"file:{folder / 'store.sqlite'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT r.model, r.train FROM runs r JOIN students s ON s.workspace = r.workspace "
                          "WHERE s.class_id = ?", (class_id,)).fetchall()
    same = sum(all(str((json.loads(m) | json.loads(t)).get(k)) == str(v) for k, v in settings.items()) for m, t in rows)
    return same, len(rows)


def save(path: Path, t0: float, students: list[Student], board: Board, store: Store) -> None:
    """Every series the report is made of, in seconds from the first press."""

    def since(series: dict) -> dict:
        return {name: [(round(t - t0, 3), v) for t, v in seen] for name, seen in series.items()}

    keys = ("lr", "kind", "pressed", "running", "chart", "finished", "place", "exceptions", "failure")
    out = dict(students={st.name: {k: (round(getattr(st, k) - t0, 3) if k in ("pressed", "running", "chart", "finished")
                                       and getattr(st, k) is not None else getattr(st, k)) for k in keys}
                         for st in students},
               page_steps=since({st.name: st.steps for st in students}), board_steps=since(board.steps),
               board_status=since(board.status), store_steps=since(store.steps), store_status=since(store.status),
               board_redraws=[round(t - t0, 3) for t in board.redraws])
    path.write_text(json.dumps(out))


def report(args, students, one, slots, wall, steps, board, store, memory, server_cpu, bench_cpu, cores, as_class,
           log_path):
    n = len(students)
    limit = n * one / slots
    done = [st for st in students if st.finished is not None]
    clean = [st for st in done if not st.exceptions]
    wait = [st.running - st.pressed for st in students if st.running and st.pressed]
    chart = [st.chart - st.pressed for st in students if st.chart and st.pressed]
    took = [st.finished - st.pressed for st in done if st.pressed]
    page_steps = {st.name: st.steps for st in students}
    behind_page, missed_page = lags(page_steps, board.steps)
    behind_store, missed_store = lags({k: v for k, v in store.steps.items() if k in page_steps}, board.steps)
    behind_status, missed_status = lags({k: [(t, s) for t, s in v if s in ("running", "finished")]
                                         for k, v in store.status.items() if k in page_steps}, board.status,
                                        rank=ORDER.get)
    start = min(st.pressed for st in students if st.pressed)
    during = [t for t in board.redraws if t >= start]  # while the class trains
    redraws = [b - a for a, b in zip(during, during[1:])]
    workers = sorted(memory.worker_mb.values())
    what = "tiny setup" if args.tiny else "Quick demo"
    print()
    print(f"Class of {n} on one server ({what}, {steps:,} steps each; {args.chromium} students in Chromium, "
          f"{n - args.chromium} through the light client; {os.cpu_count()} cores, server, clients and board on the "
          "same machine)")
    print("| measure | value | target (2 cores, 30 students) |")
    print("|---|---|---|")
    failed = sum(bool(st.failure) and st.finished is None for st in students)
    print(f"| students finished with no exception | {len(clean)} of {n} (finished {len(done)}; pages with an "
          f"exception element {sum(bool(st.exceptions) for st in students)}; with st.error "
          f"{sum(bool(st.errors) for st in students)}; bench failures {failed}) | all |")
    print(f"| runs with the class's settings | {as_class[0]} of {as_class[1]} | |")
    print(f"| one alone (press -> Training finished) | {one:.1f} s; Ray and its workers used "
          f"{cores['alone']:.2f} cores | |")
    print(f"| slots (\"Up to K trainings at once\") | {slots} | |")
    print(f"| limit = {n} x one alone / {slots} | {limit:.1f} s | |")
    print(f"| wall time (first press -> last Training finished) | {wall:.1f} s = {wall / limit:.2f} x limit | "
          "<= 1.15 x limit |")
    print(f"| wait: press -> first step shown (min / median / max) | {spread(wait)} | |")
    print(f"| press -> first loss chart with a point | {spread(chart)} | |")
    print(f"| press -> Training finished | {spread(took)} | |")
    print(f"| first queue place told (max) | {max((st.place for st in students if st.place), default=0)} | |")
    print(f"| board behind the student's own page, step (median / p95 / max) | {tail(behind_page)}; never shown "
          f"{missed_page} | <= 2 s |")
    print(f"| board behind the store, step | {tail(behind_store)}; never shown {missed_store} | |")
    print(f"| board behind the store, status change | {tail(behind_status)}; never shown {missed_status} | |")
    print(f"| board redraw interval (min / median / max) | {spread(redraws)} | |")
    print(f"| server CPU during the class | {server_cpu:.0f} s ({server_cpu / wall:.2f} cores); Ray and its workers "
          f"{cores['class']:.2f} cores | |")
    print(f"| server peak RSS | {memory.server_mb:,.0f} MB | <= 1,536 MB |")
    print(f"| workers' peak RSS ({len(workers)} workers) | {', '.join(f'{w:,.0f}' for w in workers)} MB | |")
    print(f"| this bench's CPU during the class (light clients, board, store reads; Chromium too) | {bench_cpu:.0f} s "
          "| |")
    if args.chromium:
        print()
        print("| clients | finished | wait (min / median / max) | first chart | Training finished | first step -> "
              "finished | first step -> first chart |")
        print("|---|---|---|---|---|---|---|")
        for kind in ("light", "chromium"):
            group = [st for st in students if st.kind == kind]
            print(f"| {kind} ({len(group)}) | {sum(st.finished is not None for st in group)} | "
                  f"{spread([st.running - st.pressed for st in group if st.running and st.pressed])} | "
                  f"{spread([st.chart - st.pressed for st in group if st.chart and st.pressed])} | "
                  f"{spread([st.finished - st.pressed for st in group if st.finished and st.pressed])} | "
                  f"{spread([st.finished - st.running for st in group if st.finished and st.running])} | "
                  f"{spread([st.chart - st.running for st in group if st.chart and st.running])} |")
    problems = [f"{st.name}: {st.failure or ''} {st.errors[:1] or ''}".strip() for st in students
                if st.failure or st.errors]
    for line in problems[:10]:
        print("  " + line)
    print(f"Server log: {log_path}")


if __name__ == "__main__":
    main()
