"""AppTest for the Class page: a teacher starts a class, students join with its link (each gets a workspace of their
own), and the board lists them without ever showing a workspace token."""

from dataclasses import asdict

import pandas as pd

from core.config import TrainConfig
from tests.helpers import APP, arr, chart, open_page
from ui.class_views import qr_png
from ui.store_access import store

PAGE = "pages/class.py"


def page_text(at) -> str:
    """Everything the page shows as text (Markdown, captions, code, sentences, the table's cells)."""
    parts = [e.value for kind in ("markdown", "caption", "code", "error", "warning", "info", "success", "title",
                                  "subheader") for e in getattr(at, kind)]
    parts += [df.value.to_csv() for df in at.dataframe]
    return "\n".join(str(p) for p in parts)


def start_a_class():
    """A teacher's session that started a class with settings that are not the defaults: (its AppTest, the class)."""
    at = open_page(PAGE, rnn_units="48", batch_size="8", learning_rate="0.02", epochs="4")
    at.button(key="cl_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    classes = store().classes(at.session_state["ws_token"])
    assert len(classes) == 1
    return at, classes[0]


def join(token: str, name: str):
    at = open_page(PAGE, join=token)
    at.text_input(key="cl_name").input(name)
    next(b for b in at.button if b.label == "Join").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_teacher_starts_a_class_with_two_unguessable_links_and_a_qr_code():
    teacher, cls = start_a_class()
    ws = teacher.session_state["ws_token"]
    codes = [c.value for c in teacher.code]
    assert any(c.endswith(f"/class?join={cls['join']}") for c in codes), codes
    assert any(c.endswith(f"/class?board={cls['board']}") for c in codes), codes
    assert len({cls["join"], cls["board"], ws}) == 3 and min(len(cls["join"]), len(cls["board"])) >= 22  # ≥ 128 bits
    assert cls["setup"]["model"] == asdict(teacher.session_state["model_config"])
    assert len(teacher.get("image")) == 1, "no QR code of the join link on the page"
    qr = qr_png(f"http://localhost:8501/class?join={cls['join']}")
    assert qr.startswith(b"\x89PNG") and int.from_bytes(qr[16:20], "big") >= 320  # wide enough for the back row


def test_students_join_with_their_own_workspaces_and_names_are_unique():
    teacher, cls = start_a_class()
    ada = join(cls["join"], "  Ada ")
    ws = ada.session_state["ws_token"]
    assert ws and ws != teacher.session_state["ws_token"] and ada.query_params.get("ws") in (ws, [ws])
    assert "join" not in ada.query_params
    assert any("Welcome, Ada" in s.value for s in ada.success)
    # the teacher's panel is folded away under her welcome (a student saw Start a class right below it), and open
    # for the teacher
    assert [e.label for e in ada.expander][:1] == ["Teaching? Start a class of your own"]
    assert ada.button(key="cl_start") in ada.expander[0].button and teacher.expander[0].label.startswith("Class ")
    state = store().workspace_state(ws)
    assert state["model"] == cls["setup"]["model"] and state["train"] == cls["setup"]["train"]
    assert asdict(ada.session_state["model_config"]) == cls["setup"]["model"] and cls["setup"]["model"]["rnn_units"] == 48
    assert asdict(ada.session_state["train_config"]) == cls["setup"]["train"] and cls["setup"]["train"]["epochs"] == 4
    back = open_page(PAGE, ws=ws)  # her address with nothing but the workspace: the settings come from the store
    assert asdict(back.session_state["model_config"]) == cls["setup"]["model"]

    again = join(cls["join"], "ADA")  # the same link in another browser, the same name in another case
    assert any("already joined as" in e.value and "choose another name" in e.value for e in again.error)
    assert again.session_state["ws_token"] != ws
    bob = join(cls["join"], "Bob")
    assert bob.session_state["ws_token"] not in (ws, teacher.session_state["ws_token"])
    assert [p["name"] for p in store().students(cls["id"])] == ["Ada", "Bob"]


def test_a_closed_class_or_a_cut_link_gives_a_sentence_and_an_ordinary_workspace():
    _, cls = start_a_class()
    cut = open_page(PAGE, join=cls["join"][:-4])
    assert "This class link does not work" in page_text(cut) and not cut.session_state["class_join"]
    assert [b.label for b in cut.button if b.label == "Join"] == []
    store().set_class_closed(cls["id"], True)
    closed = open_page(PAGE, join=cls["join"])
    assert "closed to new students" in page_text(closed)
    assert store().students(cls["id"]) == []


def test_the_board_lists_students_by_best_loss_escapes_names_and_never_shows_a_workspace_token():
    _, cls = start_a_class()
    s = store()
    students = {name: join(cls["join"], name).session_state["ws_token"] for name in ("<b>Eve</b>", "Zoe", "Max")}
    for name, best in (("<b>Eve</b>", 2.5), ("Zoe", 1.25)):
        ws = students[name]
        run = s.create_run(ws, "run 1", s.put_text("abc" * 100), "t", cls["setup"]["model"],
                           TrainConfig(**{**cls["setup"]["train"], "learning_rate": 0.01 if name == "Zoe" else 0.001}),
                           "{}")
        s.update_run(ws, run, status="finished", best_val=best, epoch=3)
        assert s.run(ws, run)["class_id"] == cls["id"]
    board = open_page(PAGE, board=cls["board"])
    assert any("the board" in t.value for t in board.title)
    table = board.dataframe[0].value
    assert list(table["name"]) == ["Zoe", "<b>Eve</b>", "Max"]  # best validation loss first, as typed
    assert "learning rate 0.01" in table.loc[0, "differences"]
    # nobody trains now: no speed, shown as a dash (Streamlit's default is the word "None"), and Max has no loss yet
    assert table["tokens/s"].isna().all() and pd.isna(table.loc[2, "best val. loss"])
    assert board.dataframe[0].proto.placeholder == "–"
    text = page_text(board)
    assert not any(ws in text for ws in students.values()) and "ws=" not in text

    maxi = next(p["id"] for p in s.students(cls["id"]) if p["name"] == "Max")
    board.selectbox(key="cl_hide").set_value(maxi).run()
    assert list(board.dataframe[0].value["name"]) == ["Zoe", "<b>Eve</b>"]
    board.button(key="cl_close").click().run()
    assert s.class_by_board(cls["board"])["closed"] and not board.exception


def test_the_class_page_is_listed_after_runs():
    source = open(APP).read()
    assert source.index('"pages/runs.py"') < source.index('"pages/class.py"') < source.index('"pages/sweeps.py"')


def _curves(board) -> dict[str, list]:
    """Each named curve of the board's loss chart: its steps."""
    return {t["name"]: arr(t["x"]).tolist() for t in chart(board, "cl_curves")["data"] if t.get("name")}


def test_the_boards_curves_follow_the_store_and_a_run_that_did_not_move_is_not_read_again(monkeypatch):
    _, cls = start_a_class()
    s = store()
    ws = join(cls["join"], "Ada").session_state["ws_token"]
    run = s.create_run(ws, "run 1", s.put_text("abc" * 100), "t", cls["setup"]["model"],
                       TrainConfig(**cls["setup"]["train"]), "{}")

    def trained_to(before: int, now: int) -> None:  # as the recorder writes: the rows, then the step
        n = now - before
        s.append_rows(ws, run, before, dict(steps=list(range(before + 1, now + 1)), loss=[1.0] * n, accuracy=[0.5] * n,
                                            seconds=[0.1] * n, norms=[[1.0]] * n))
        s.update_run(ws, run, status="running", step=now)

    trained_to(0, 3)
    reads, real = [], type(s).rows
    monkeypatch.setattr(type(s), "rows", lambda self, *args: reads.append(args) or real(self, *args))
    board = open_page(PAGE, board=cls["board"])
    assert _curves(board)["Ada"] == [1, 2, 3] and len(reads) == 1
    board.run()
    assert _curves(board)["Ada"] == [1, 2, 3] and len(reads) == 1  # nothing moved: not read again
    trained_to(3, 5)
    board.run()
    assert _curves(board)["Ada"] == [1, 2, 3, 4, 5] and len(reads) == 2
