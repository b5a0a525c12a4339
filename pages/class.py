"""Class: one link for a room of students, each with their own copy of the lesson's setup, and a live board for the
projector (the page's address is /class; the links add `join=` or `board=`)."""

import streamlit as st

from ui import class_state, class_views, through_router, workspace

through_router()

if workspace.store() is None:
    st.title("Class")
    st.info("A class needs the run store, which this server cannot open; the sentence at the top of the page says why.")
    st.stop()

cls = class_state.board_class()
if cls is not None:
    st.title(f"Class {cls['id']}: the board")
    class_views.board(cls)
    st.stop()
if st.session_state.get("class_board"):
    st.session_state.class_board = None
    st.warning("This board link does not work: the class was not found, or the link was cut short. Open the whole link "
               "from the Class page where the class was started.")

cls = class_state.joining()
if cls is not None:
    st.title("Class")
    class_views.join_form(cls)
    st.stop()

st.title("Class")
workspace.show_notices()  # a join link that did not work says so here, where the student landed
if st.session_state.get("class_joined"):  # a student who just joined: their welcome, not the teacher's panel
    class_views.joined_note()
    with st.expander("Teaching? Start a class of your own"):
        class_views.teacher_panel()
else:
    class_views.teacher_panel()
