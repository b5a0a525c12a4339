"""What the Class page draws: the teacher's panel (start a class, its two links and the join link's QR code), the
student's join form, and the board (live, for the projector)."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from core.classroom.board import COLUMNS, StudentRow, to_csv
from core.figures.classroom import class_curves, class_parallel
from core.figures.style import unchecked
from core.runs.store import NAME_CHARS
from ui import class_state, controls
from ui.store_access import store

BOARD_EVERY_S = 1.0  # the board redraws itself this often: with the recorder's 1 s, at most 2 s behind


def qr_png(url: str) -> bytes:
    """The join link as a QR code (segno), large enough to scan from the back of a room."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=12, border=2)
    return out.getvalue()


def teacher_panel() -> None:
    """Start a class from this session's text and settings; the links of the classes this workspace started."""
    ss = st.session_state
    st.markdown("Start a class and give its **join link** to your students: each student who opens it types a name and "
                "gets a workspace of their own, with a copy of this text and these Model and Train settings. Nothing a "
                "student does reaches yours or anyone else's. The **board link** is for you: every student's training, "
                "live, for the projector.")
    st.caption(f"The class starts from: {controls.plain(ss.get('text_name') or 'this text')} "
               f"({len(str(ss.text)):,} characters, {ss.level} level), {ss.model_config.rnn_units} units, "
               f"batch {ss.model_config.batch_size}, learning rate {ss.train_config.learning_rate:g}, "
               f"{ss.train_config.epochs} epochs.")
    if st.button("Start a class", key="cl_start", type="primary"):
        if class_state.start_class() is not None:
            st.rerun()
    classes = class_state.my_classes()
    for i, cls in enumerate(classes[:3]):
        _links(cls, first=i == 0)


def _links(cls: dict, first: bool) -> None:
    join, board = class_state.links(cls)
    with st.expander(f"Class {cls['id']}: {cls['students']} student{'s' if cls['students'] != 1 else ''}"
                     + (" · closed to new students" if cls["closed"] else ""), expanded=first):
        left, right = st.columns([3, 2])
        left.markdown("**Join link** (for students)")
        left.code(join, language=None, wrap_lines=True)
        left.markdown("**Board link** (for you: it shows every student's name and results)")
        left.code(board, language=None, wrap_lines=True)
        left.link_button("Open the board", board, icon=":material/cast_for_education:")
        right.image(qr_png(join), caption="Scan to join", width=320)


def join_form(cls: dict) -> None:
    """Your name and Join: the student's own copy of the class."""
    setup = cls["setup"]
    st.subheader("Join the class")
    st.markdown(f"You get your own workspace with the class's text ({controls.plain(setup.get('text_name') or 'text')}) "
                "and settings. Your teacher sees your name and your results on the board, nothing else.")
    with st.form("cl_join_form", border=False):
        name = st.text_input("Your name", max_chars=NAME_CHARS, key="cl_name", placeholder="as your teacher knows you")
        joined = st.form_submit_button("Join", type="primary")
    if joined:
        problem = class_state.join(cls, name or "")
        if problem:
            st.error(controls.plain(problem), icon=":material/badge:")
        else:
            st.rerun()


def joined_note() -> None:
    name = st.session_state.get("class_joined")
    if name:
        st.success(f"Welcome, {controls.plain(name)}. This is your own workspace, with the class's text and settings: "
                   "its address is now in your address bar. Go to Train and press Start training.",
                   icon=":material/school:")
        st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")


def board(cls: dict) -> None:
    """The class's board: the teacher's buttons, then the live table and charts."""
    s = store()
    a, b, c = st.columns(3)
    if cls["closed"]:
        a.button("Open joining again", key="cl_open", on_click=s.set_class_closed, args=(cls["id"], False))
    else:
        a.button("Close joining", key="cl_close", on_click=s.set_class_closed, args=(cls["id"], True),
                 help="Nobody new can join; the students in the class go on.")
    if b.button("Show the class's setup here", key="cl_use", help="Load the class's text and settings into this tab, "
                "to train it in front of the class."):
        if class_state.use_setup(cls):
            st.switch_page("pages/train.py")
        st.error("The class's text is no longer in the run store.")
    visible = [p for p in s.students(cls["id"]) if not p["hidden"]]
    if visible:
        pick = c.selectbox("Hide a student's row", [p["id"] for p in visible], index=None, key="cl_hide",
                           format_func={p["id"]: p["name"] for p in visible}.get, placeholder="Hide a student's row")
        if pick is not None:
            s.hide_student(cls["id"], pick)
            st.session_state.pop("cl_hide", None)
            st.rerun()

    @st.fragment(run_every=BOARD_EVERY_S)
    def live() -> None:
        _live(cls)

    live()


def _live(cls: dict) -> None:
    rows, names, steps, losses = class_state.board(cls)
    st.subheader(f"{len(rows)} student{'s' if len(rows) != 1 else ''}"
                 + (" · joining closed" if cls["closed"] else " · joining open"))
    if not rows:
        st.info("Nobody has joined yet. Give your students the join link (or its QR code) from the Class page.")
        return
    st.dataframe(_table(rows), hide_index=True, width="stretch", key="cl_table", placeholder=controls.MISSING,
                 column_config={"best val. loss": st.column_config.NumberColumn(format="%.3f"),
                                "tokens/s": st.column_config.NumberColumn(format="%.0f")})
    st.download_button("Download the class table (.csv)", to_csv(rows), file_name="class.csv", mime="text/csv",
                       key="cl_csv", on_click="ignore", icon=":material/download:")
    best = rows[0].name if rows[0].best_val is not None else None
    st.plotly_chart(unchecked(class_curves(names, steps, losses, best)), width="stretch", key="cl_curves")
    st.plotly_chart(class_parallel(rows), width="stretch", key="cl_parallel")  # a few rows: validated


def _table(rows: list[StudentRow]) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(COLUMNS[:5] + ("tokens/s",), (r.name, r.status, r.progress, r.differences, r.best_val,
                                                               r.tokens_per_s))) for r in rows])
