"""What every kind of test shares: bounded waiting, a free port, tiny configurations, and driving the app's pages.

Test modules import from here (and from tests/reference.py), never from each other.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Callable, Iterator

from core.config import ModelConfig, TrainConfig
from core.text.vocabulary import Vocabulary

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 120  # AppTest's default_timeout: importing TensorFlow alone takes several seconds
# The deadline of a wait that may include a new Ray worker's start (its TensorFlow import and first build). At the
# suite's busiest, with three test files starting workers at once, one took 101 s (Ray's worker log: the client joined
# at 06:08:07, the worker ran its first op at 06:09:48), and three tests failed at 120 s. A deadline only guards a hang.
WORKER_START_S = 240


def sql(folder: Path, query: str, args: tuple = ()) -> list[tuple]:
    """`query` on the run store's database in `folder`, through a connection of the test's own (the store's code and
    its connection stay out of what is checked), with foreign keys enforced as the store has them."""
    with closing(sqlite3.connect(Path(folder) / "store.sqlite")) as db, db:
        db.execute("PRAGMA foreign_keys = ON")
        return db.execute(query, args).fetchall()


# The one tiny model: 7 tokens, embedding 3, 4 units, batch 2, length 5. A test that needs another size says which
# with dataclasses.replace(TINY, ...), so the difference shows where it matters.
TINY = ModelConfig(vocab_size=7, embedding_dim=3, rnn_units=4, batch_size=2, seq_len=5)

# A tiny training in process or in a worker: 44 characters of text, 16 units, 2 epochs of 20 batches.
FOX = "the quick brown fox jumps over the lazy dog.\n" * 60
FOX_VOCAB = Vocabulary.build(FOX)
FOX_IDS = FOX_VOCAB.encode(FOX)
SMALL = ModelConfig(vocab_size=len(FOX_VOCAB), embedding_dim=8, rnn_units=16, batch_size=4, seq_len=16)
SHORT = TrainConfig(epochs=2, learning_rate=0.01, max_steps_per_epoch=20, sample_length=20, grad_curve_len=0)


def built(config: ModelConfig):
    """A model from `config` whose RNN biases are random too (Keras starts them at zero, which would hide bias bugs)."""
    import numpy as np

    from core.nn.language_model import build_model

    model = build_model(config)
    rng = np.random.RandomState(config.seed)
    for layer in model.layers:
        if hasattr(layer, "cell"):
            layer.cell.bias.assign(rng.normal(0, 0.5, layer.cell.bias.shape).astype(np.float32))
    return model


def until(pred: Callable[[], object], timeout: float = 120, what: str | Callable[[], str] = "the condition",
          every: float = 0.02) -> None:
    """Wait until `pred()` is true; at the deadline raise AssertionError naming `what` (a string, or a callable
    that describes the state at that moment). Never hangs, never times out silently."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")
        time.sleep(every)


def stays(pred: Callable[[], object], seconds: float, what: str | Callable[[], str] = "the condition",
          every: float = 0.02) -> None:
    """Check that `pred()` holds all through `seconds` (for "nothing happens" checks); fail at the first moment
    it does not, naming `what`."""
    deadline = time.monotonic() + seconds
    while True:
        assert pred(), f"no longer true: {what() if callable(what) else what}"
        if time.monotonic() >= deadline:
            return
        time.sleep(every)


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def described(trainer) -> Callable[[], str]:
    """A `what` for until() that shows where a trainer is."""
    return lambda: f"{trainer.progress().status} at step {trainer.progress().step}: {trainer.progress().message}"


def wait_for_step(trainer, step: int, timeout: float = 120) -> None:
    until(lambda: trainer.progress().step >= step, timeout, lambda: f"step {step}; the trainer is {described(trainer)()}")


def wait_for_status(trainer, status: str, timeout: float = 120, step: int | None = None) -> None:
    """Wait for `status` (and, if given, exactly `step`)."""
    until(lambda: trainer.progress().status == status and (step is None or trainer.progress().step == step), timeout,
          lambda: f"{status}{'' if step is None else f' at step {step}'}; the trainer is {described(trainer)()}")


def trains_as_this_process(far) -> None:
    """Train SMALL on the fox with SHORT here, and `far` (a `RemoteTrainer` of the same) in its worker: the same losses,
    layer norms, validation, samples and, in the server's copy of the model, final weights."""
    import numpy as np

    from core.nn.language_model import build_model
    from core.training.trainer import Trainer

    local_model = build_model(SMALL)
    local = Trainer(local_model, SMALL, SHORT, FOX_IDS, FOX_VOCAB)
    local.start()
    local.join(120)
    far.start()
    far.join(120)
    p, q = far.progress(), local.progress()
    assert p.status == "finished" and p.step == 40 and list(p.steps) == list(range(1, 41))
    np.testing.assert_array_equal(p.loss, q.loss)
    np.testing.assert_array_equal(p.layer_norms, q.layer_norms)
    assert p.val_loss == q.val_loss and list(p.samples) == list(q.samples)
    for a, b in zip(far.model.get_weights(), local_model.get_weights()):
        np.testing.assert_array_equal(a, b)


@contextmanager
def server_full(leave: int = 0) -> Iterator[int]:
    """Hold every training slot of this process's server but `leave`, through the public `training_slot`, as other
    sessions' trainings would; yields how many are held, and frees them at the end."""
    from core.workers.admission import training_slot

    held = []
    try:
        while True:
            slot = training_slot(lambda: False)  # gives up after one wait round when none is free
            if not slot.__enter__():
                slot.__exit__(None, None, None)
                break
            held.append(slot)
        assert len(held) >= leave, f"only {len(held)} slots are free; the test needs {leave}"
        for _ in range(leave):
            held.pop().__exit__(None, None, None)
        yield len(held)
    finally:
        for slot in held:
            slot.__exit__(None, None, None)


# ---- AppTest ---------------------------------------------------------------------------------------------------


def open_page(page: str | None = None, config: ModelConfig | None = None, **query):
    """A new session of the app (with `config` as its model settings and `query` in its address, if given), run,
    then switched to `page`; fails on an exception."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if config is not None:
        at.session_state["model_config"] = config
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def reopened(token: str, **query):
    """A new browser session on the address with workspace `token` (a reload, or a shared link)."""
    return open_page(ws=token, **query)


def chart(at, key: str) -> dict:
    """The plotly figure (as a dict) of the chart with widget key `key`."""
    import json

    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key)]
    assert found, f"no chart {key!r}; charts: {[c.proto.id.rsplit('-', 1)[-1] for c in at.get('plotly_chart')]}"
    return json.loads(found[0].proto.spec)


def arr(value):
    """A plotly JSON array as a NumPy array: a list, or plotly 6's {"dtype", "bdata", "shape"} typed array."""
    import base64

    import numpy as np

    if isinstance(value, dict):
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return out.reshape([int(n) for n in str(value["shape"]).split(",")]) if "shape" in value else out
    return np.array(value, dtype=float)


def wait_for_training(at, timeout: float = WORKER_START_S) -> None:
    """Wait until the session's training ends, then rerun the page."""
    trainer = at.session_state["run"].trainer
    until(lambda: not trainer.active(), timeout, lambda: f"the training to end; it is {described(trainer)()}")
    at.run()


def train_tiny(at, steps: int = 5) -> None:
    """Set a 16-unit model with batch 8 and train it for `steps` batches from the Train page; waits for the end."""
    at.switch_page("pages/model.py").run()
    at.number_input(key="m_units").set_value(16).run()
    at.number_input(key="m_batch").set_value(8).run()
    at.switch_page("pages/train.py").run()
    at.number_input(key="tr_epochs").set_value(1).run()
    at.number_input(key="tr_steps").set_value(steps).run()
    at.button(key="tr_start").click().run()
    wait_for_training(at)
