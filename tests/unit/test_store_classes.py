"""The run store's classes (issue 18): a teacher's workspace starts a class; each student who joins gets a workspace of
their own holding the class's setup; names are unique in a class whatever their case; a closed or full class refuses
with a sentence; a join's checks and writes are one transaction; a student's runs carry their class."""

import threading
import time
from dataclasses import asdict

import pytest

from core import settings
from core.config import ModelConfig, TrainConfig
from core.runs import sqlite_classes, sqlite_store
from core.runs.sqlite_store import RunStore
from core.runs.store import (NAME_CHARS, BadName, ClassClosed, ClassError, ClassFull, NameTaken, StoreError, new_token,
                             valid_token)
from tests.helpers import sql

TEXT = "a class learns from one text.\n" * 10
MODEL = asdict(ModelConfig(vocab_size=12, embedding_dim=3, rnn_units=4, batch_size=2, seq_len=5))
KEYS = {"id", "workspace", "join", "board", "created", "setup", "closed", "students"}


def teacher(store: RunStore) -> tuple[str, dict]:
    """A teacher's workspace and the setup of a class it starts."""
    ws = store.create_workspace()
    setup = dict(text=store.put_text(TEXT), text_name="a text", level="char", vocab_cap=40, model=MODEL,
                 train=asdict(TrainConfig(epochs=3)))
    store.save_workspace(ws, dict(setup, run=7), setup["text"])
    return ws, setup


def count(store: RunStore, table: str) -> int:
    return sql(store.folder, f"SELECT COUNT(*) FROM {table}")[0][0]


def new_run(store: RunStore, ws: str, setup: dict) -> int:
    return store.create_run(ws, "run 1", setup["text"], "a text", ModelConfig(), TrainConfig(), "{}")


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path)


def test_a_class_is_found_by_each_of_its_links_and_by_nothing_else(store):
    ws, setup = teacher(store)
    made = store.create_class(ws, setup)
    assert set(made) == KEYS and (made["workspace"], made["setup"], made["closed"], made["students"]) == (ws, setup, False, 0)
    assert valid_token(made["join"]) and valid_token(made["board"]) and len({made["join"], made["board"], ws}) == 3
    assert store.class_by_join(made["join"]) == made and store.class_by_board(made["board"]) == made
    for wrong in (made["board"], made["join"][:-1], made["join"] + "x", ws, new_token(), "", None, "../../etc", 7):
        assert store.class_by_join(wrong) is None
    for wrong in (made["join"], made["board"][:-1], ws, new_token(), "", None):
        assert store.class_by_board(wrong) is None
    second = store.create_class(ws, dict(setup, level="word"))
    assert store.classes(ws) == [made, second] and second["setup"]["level"] == "word"
    assert store.classes(store.create_workspace()) == [] and store.classes("not a token") == []


def test_tokens_are_drawn_again_until_none_is_taken_or_repeated(store, monkeypatch):
    ws, setup = teacher(store)
    first = store.create_class(ws, setup)
    a, b, c, d, e = (new_token() for _ in range(5))
    draws = iter([ws, a, a, a, first["board"], b, c, d, first["join"], ws, e])
    monkeypatch.setattr(sqlite_classes, "new_token", lambda: next(draws))
    made = store.create_class(ws, setup)  # (ws, a) a workspace's; (a, a) twice; (board, b) a link's; (c, d) fresh
    assert (made["join"], made["board"]) == (c, d)
    assert store.join_class(made["id"], "Ada") == e  # a link's token, then a workspace's, then e
    monkeypatch.setattr(sqlite_classes, "new_token", lambda: ws)
    with pytest.raises(StoreError, match="random numbers cannot be trusted"):
        store.create_class(ws, setup)
    assert len(store.classes(ws)) == 2


def test_creating_a_class_needs_the_workspace_and_its_text(store):
    ws, setup = teacher(store)
    with pytest.raises(ClassError, match="Open the playground's start page"):
        store.create_class(new_token(), setup)
    with pytest.raises(ClassError, match="Choose a text on the Text page"):
        store.create_class(ws, dict(setup, text="0" * 64))
    with pytest.raises(ClassError, match="Choose a text"):
        store.create_class(ws, {k: v for k, v in setup.items() if k != "text"})
    assert count(store, "classes") == 0


def test_joining_makes_a_workspace_of_ones_own_that_starts_from_the_setup(store):
    ws, setup = teacher(store)
    made = store.create_class(ws, setup)
    ada = store.join_class(made["id"], "  Ada Lovelace \n")
    assert valid_token(ada) and ada not in (ws, made["join"], made["board"]) and store.workspace_exists(ada)
    assert store.workspace_state(ada) == setup and store.text(store.workspace_state(ada)["text"]) == TEXT
    store.save_workspace(ada, dict(setup, level="word"), setup["text"])  # the student changes their own setup
    bob = store.join_class(made["id"], "Bob")
    assert bob != ada and store.workspace_state(bob) == setup and store.workspace_state(ws) == dict(setup, run=7)
    students = store.students(made["id"])
    assert [(s["name"], s["workspace"], s["hidden"]) for s in students] == [("Ada Lovelace", ada, False), ("Bob", bob, False)]
    assert set(students[0]) == {"id", "name", "workspace", "joined", "hidden"} and students[0]["joined"] <= students[1]["joined"]
    assert store.class_by_board(made["board"])["students"] == 2 and store.students(made["id"] + 1) == []


def test_a_name_taken_in_any_case_is_refused_and_costs_nothing(store):
    ws, setup = teacher(store)
    made, other = store.create_class(ws, setup), store.create_class(ws, setup)
    store.join_class(made["id"], "Ada")
    store.join_class(made["id"], "Ødegård")
    store.join_class(made["id"], "Jos\u00e9")  # é as one character
    workspaces = count(store, "workspaces")
    for same in ("Ada", "ada", " ADA ", "øDEGÅRD", "Jose\u0301"):  # the last: e and a combining accent
        with pytest.raises(NameTaken, match="already joined as .* choose another name"):
            store.join_class(made["id"], same)
    assert count(store, "workspaces") == workspaces and len(store.students(made["id"])) == 3
    assert store.join_class(other["id"], "ADA")  # another class's names are its own


@pytest.mark.parametrize("name, why", [("", "Type your name"), ("   ", "Type your name"), (None, "Type your name"),
                                       ("x" * (NAME_CHARS + 1), f"has {NAME_CHARS + 1} characters.*Shorten it"),
                                       ("Ada\nLovelace", "Type it on one line"), ("Ada\tL", "on one line")])
def test_a_name_is_one_to_thirty_characters_after_stripping(store, name, why):
    ws, setup = teacher(store)
    made = store.create_class(ws, setup)
    with pytest.raises(BadName, match=why):
        store.join_class(made["id"], name)
    assert store.students(made["id"]) == [] and count(store, "workspaces") == 1
    store.join_class(made["id"], "  " + "y" * NAME_CHARS + "  ")
    assert [s["name"] for s in store.students(made["id"])] == ["y" * NAME_CHARS]


def test_a_closed_class_refuses_until_it_is_opened_again(store):
    ws, setup = teacher(store)
    made, other = store.create_class(ws, setup), store.create_class(ws, setup)
    store.set_class_closed(made["id"], True)
    assert store.class_by_join(made["join"])["closed"] is True and store.class_by_join(other["join"])["closed"] is False
    with pytest.raises(ClassClosed, match="closed this class to new students. Ask them to open it again"):
        store.join_class(made["id"], "Ada")
    assert store.join_class(other["id"], "Ada") and count(store, "students") == 1
    store.set_class_closed(made["id"], False)
    assert store.class_by_join(made["join"])["closed"] is False and store.join_class(made["id"], "Ada")


def test_a_class_not_on_the_server_is_a_sentence(store):
    with pytest.raises(ClassError, match="Ask your teacher to send the class link again"):
        store.join_class(12345, "Ada")


def test_a_full_class_refuses_with_its_limit_and_hidden_students_still_count(store, monkeypatch):
    monkeypatch.setenv("RNN_PLAYGROUND_MAX_STUDENTS", "2")
    settings.reload()
    ws, setup = teacher(store)
    made, other = store.create_class(ws, setup), store.create_class(ws, setup)
    store.join_class(made["id"], "Ada")
    bob = store.join_class(made["id"], "Bob")
    store.hide_student(made["id"], store.students(made["id"])[1]["id"])
    with pytest.raises(ClassFull, match=r"already has 2 students.*\(2, set by RNN_PLAYGROUND_MAX_STUDENTS\).*second class"):
        store.join_class(made["id"], "Cy")
    assert store.join_class(other["id"], "Cy") and store.class_of(bob) == made["id"]
    assert settings.parse({}).max_students == 60
    with pytest.raises(settings.SettingsError, match="RNN_PLAYGROUND_MAX_STUDENTS is '0'"):
        settings.parse({"RNN_PLAYGROUND_MAX_STUDENTS": "0"})


def test_hiding_a_student_keeps_their_workspace_and_touches_only_that_class(store):
    ws, setup = teacher(store)
    made, other = store.create_class(ws, setup), store.create_class(ws, setup)
    ada, _ = store.join_class(made["id"], "Ada"), store.join_class(made["id"], "Bob")
    first = store.students(made["id"])[0]["id"]
    store.hide_student(other["id"], first)  # not that class's student: nothing
    assert [s["hidden"] for s in store.students(made["id"])] == [False, False]
    store.hide_student(made["id"], first)
    assert [s["hidden"] for s in store.students(made["id"])] == [True, False] and store.workspace_exists(ada)
    store.hide_student(made["id"], first, hidden=False)
    assert [s["hidden"] for s in store.students(made["id"])] == [False, False]


def test_a_students_runs_carry_their_class_and_the_teachers_do_not(store):
    ws, setup = teacher(store)
    made = store.create_class(ws, setup)
    ada = store.join_class(made["id"], "Ada")
    assert store.class_of(ada) == made["id"] and store.class_of(ws) is None
    assert store.class_of(new_token()) is None and store.class_of("nope") is None
    mine, theirs = new_run(store, ada, setup), new_run(store, ws, setup)
    assert store.run(ada, mine)["class_id"] == made["id"] and store.run(ws, theirs)["class_id"] is None
    with pytest.raises(ValueError, match="class_id"):
        store.update_run(ada, mine, class_id=None)  # read-only


def test_the_class_keeps_its_text_when_the_teacher_moves_on(store):
    ws, setup = teacher(store)
    store.create_class(ws, setup)
    run_id = new_run(store, ws, setup)
    store.save_workspace(ws, {}, store.put_text("another text"))
    store.delete_run(ws, run_id)  # the last run with the class's text, which the teacher's workspace left
    assert store.text(setup["text"]) == TEXT


@pytest.mark.parametrize("stores", [1, 2], ids=["one store", "two stores on one folder"])
@pytest.mark.parametrize("names, limit, refused", [(("Ada", "ADA"), 60, NameTaken), (("Ada", "Bob"), 1, ClassFull)])
def test_two_students_joining_at_once_cannot_both_pass_the_checks(tmp_path, monkeypatch, stores, names, limit, refused):
    """Each join draws its workspace's token slowly, so a join that checks first and then makes the workspace
    (`create_workspace`, `save_workspace`) and records the student would let both pass the checks: both would join,
    or the second would fail on the table's constraint instead of with a sentence."""
    monkeypatch.setenv("RNN_PLAYGROUND_MAX_STUDENTS", str(limit))
    settings.reload()
    first = RunStore(tmp_path)
    both = [first, RunStore(tmp_path) if stores == 2 else first]
    ws, setup = teacher(first)
    made = first.create_class(ws, setup)
    for module in (sqlite_classes, sqlite_store):  # a class's tokens, and `create_workspace`'s
        monkeypatch.setattr(module, "new_token", lambda: time.sleep(0.2) or new_token())
    start, results = threading.Barrier(2), {}

    def join(i):
        start.wait()
        try:
            results[i] = both[i].join_class(made["id"], names[i])
        except StoreError as err:
            results[i] = err

    threads = [threading.Thread(target=join, args=(i,)) for i in range(2)]
    [t.start() for t in threads], [t.join(30) for t in threads]
    assert sorted(type(r).__name__ for r in results.values()) == sorted(["str", refused.__name__])
    assert len(first.students(made["id"])) == 1 and count(first, "workspaces") == 2
