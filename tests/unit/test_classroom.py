"""core.classroom.board and core.figures.classroom: a class board's rows, its CSV and its two projector figures."""

import csv
import io
import json
from dataclasses import asdict

import numpy as np
import plotly.graph_objects as go
import pytest

from core.classroom.board import StudentRow, board_rows, differences, to_csv
from core.config import ModelConfig, TrainConfig
from core.figures.classroom import class_curves, class_parallel, decimate

MODEL, TRAIN = asdict(ModelConfig()), asdict(TrainConfig(epochs=20))
SETUP = {"model": MODEL, "train": TRAIN}


def run(id, status="finished", best_val=None, model=None, train=None, **more):
    """A run dict as the store gives it (model and train as JSON)."""
    return dict(id=id, kind="text", status=status, message="", step=0, epoch=0, best_val=best_val, tokens_per_s=0.0,
                extras="{}", model=json.dumps(MODEL | (model or {})), train=json.dumps(TRAIN | (train or {}))) | more


def student(id, name, hidden=False):
    return dict(id=id, name=name, workspace=f"ws{id}", hidden=hidden)


# ---- differences ----

def test_no_difference_is_an_empty_text():
    assert differences(MODEL, TRAIN, dict(MODEL), dict(TRAIN)) == ""


def test_one_difference_uses_the_sweeps_label():
    assert differences(MODEL, TRAIN, MODEL, TRAIN | {"learning_rate": 0.01}) == "learning rate 0.01"


def test_several_differences_read_in_the_sweeps_order():
    text = differences(MODEL, TRAIN, MODEL | {"rnn_units": 256, "cell": "lstm", "stateful": False},
                       TRAIN | {"learning_rate": 0.001, "clip_norm": 0.0, "epochs": 5})
    assert text == "learning rate 0.001, units 256, cell LSTM, clipping off, epochs 5, stateful off"


def test_fields_that_do_not_change_training_are_ignored():
    other = TRAIN | {"sample_length": 0, "sample_temperature": 1.5, "grad_curve_len": 0}
    assert differences(MODEL, TRAIN, MODEL | {"vocab_size": 80}, other) == ""
    assert differences(MODEL, TRAIN, MODEL | {"seed": 7}, TRAIN) == "seed 7"  # the seed changes the weights


def test_differences_read_json_and_count_a_missing_field_as_its_default():
    missing = {k: v for k, v in MODEL.items() if k != "dropout"}
    assert differences(json.dumps(MODEL | {"dropout": 0.2}), TRAIN, json.dumps(missing), json.dumps(TRAIN)) == "dropout 0"
    assert differences(missing, TRAIN, MODEL | {"dropout": 0.0}, TRAIN) == ""  # an older setup without the field


# ---- board_rows ----

def test_hidden_students_are_left_out_and_a_student_without_runs_has_joined():
    rows = board_rows(SETUP, [student(1, "Ada"), student(2, "Hid", hidden=True)], {})
    assert rows == [StudentRow(1, "Ada", "joined", "no run yet", "")]


def test_rows_sort_by_best_validation_loss_then_by_name():
    students = [student(1, "zoe"), student(2, "Bob"), student(3, "amy"), student(4, "Cy")]
    runs = {1: [run(10, best_val=1.5)], 2: [run(20, best_val=1.2)], 4: [run(40, status="running")]}
    assert [r.name for r in board_rows(SETUP, students, runs)] == ["Bob", "zoe", "amy", "Cy"]


def test_the_best_is_the_lowest_over_every_run_and_names_its_run():
    runs = {1: [run(7, best_val=float("nan")), run(1, best_val=2.0), run(5, best_val=1.1, model={"rnn_units": 256}),
                run(9, best_val=None)]}
    (row,) = board_rows(SETUP, [student(1, "Ada")], runs)
    assert (row.best_val, row.best_run, row.latest_run) == (1.1, 5, 9)
    assert row.best_settings["rnn_units"] == 256 and row.differences == ""  # differences: the latest run's settings


def test_differences_come_from_the_latest_run():
    runs = {1: [run(3, train={"learning_rate": 0.01}), run(2, model={"rnn_units": 8})]}
    assert board_rows(SETUP, [student(1, "Ada")], runs)[0].differences == "learning rate 0.01"


def test_a_running_run_shows_its_epoch_percent_and_speed():
    extras = json.dumps({"val": [[50, 1.4, 0.3], [100, 1.2, 0.4]]})  # validation at each epoch end: 50 steps an epoch
    live = run(4, status="running", step=420, epoch=9, tokens_per_s=1234.5, extras=extras)
    (row,) = board_rows(SETUP, [student(1, "Ada")], {1: [live]})
    assert (row.status, row.progress, row.tokens_per_s) == ("training", "epoch 9 of 20 · 42%", 1234.5)


def test_a_running_run_without_a_known_epoch_length_shows_no_percent():
    live = run(4, status="running", step=3, epoch=1)
    assert board_rows(SETUP, [student(1, "Ada")], {1: [live]})[0].progress == "epoch 1 of 20"
    capped = run(4, status="running", step=30, epoch=1, train={"max_steps_per_epoch": 10, "epochs": 6})
    assert board_rows(SETUP, [student(1, "Ada")], {1: [capped]})[0].progress == "epoch 1 of 6 · 50%"


@pytest.mark.parametrize("place, text", [(1, "1st in the queue"), (2, "2nd in the queue"), (3, "3rd in the queue"),
                                         (11, "11th in the queue"), (22, "22nd in the queue"), (None, "waiting for a worker")])
def test_a_waiting_run_shows_its_place_in_the_queue(place, text):
    queue = {"ws1": place} if place else {"other": 1}
    (row,) = board_rows(SETUP, [student(1, "Ada")], {1: [run(4, status="waiting")]}, queue)
    assert (row.status, row.progress) == ("waiting", text)


@pytest.mark.parametrize("status, shown, text", [
    ("finished", "finished", "finished 20 epochs"), ("paused", "training", "paused at epoch 3 of 20"),
    ("stopped", "stopped", "stopped at epoch 3 of 20"), ("lost", "failed", "worker lost at epoch 3 of 20"),
    ("interrupted", "stopped", "interrupted by a server restart at epoch 3 of 20"),
    ("failed", "failed", "failed: Out of memory.")])
def test_each_ended_status_is_one_of_the_boards_five_with_its_text_and_no_speed(status, shown, text):
    """The board says waiting, training, finished, stopped or failed; the progress keeps the run's own word (a student
    whose worker died shows as failed)."""
    (row,) = board_rows(SETUP, [student(1, "Ada")], {1: [run(4, status, epoch=3, message="Out of memory.", tokens_per_s=9.0)]})
    assert (row.status, row.progress, row.tokens_per_s) == (shown, text, None)


# ---- to_csv ----

def test_the_csv_round_trips_names_with_quotes_commas_and_newlines():
    names = ['Ann "the brave", jr.', "two\nlines", "O'Brien", "<b>bold</b>"]
    rows = [StudentRow(i, n, "finished", "finished 3 epochs", "units 256", 1.23456, 7, None, 7) for i, n in enumerate(names)]
    read = list(csv.reader(io.StringIO(to_csv(rows))))
    assert read[0] == ["name", "status", "progress", "differences", "best val. loss", "best run", "tokens/s", "latest run"]
    assert [r[0] for r in read[1:]] == names
    assert read[1][1:] == ["finished", "finished 3 epochs", "units 256", "1.2346", "7", "", "7"]


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx"])
def test_the_csv_neutralises_formulas(name):
    rows = [StudentRow(1, name, "joined", "no run yet", "")]
    assert list(csv.reader(io.StringIO(to_csv(rows))))[1][0] == "'" + name


def test_the_csv_leaves_plain_names_alone():
    assert list(csv.reader(io.StringIO(to_csv([StudentRow(1, "Zoë", "joined", "", "")]))))[1][0] == "Zoë"


# ---- class_curves ----

NASTY = "<b>Bob</b><a href=x>&</a>"


def test_curve_legend_names_are_escaped():
    fig = class_curves([NASTY, "Ann"], [np.arange(3)] * 2, [np.ones(3)] * 2)
    assert [t["name"] for t in fig["data"]] == ["&lt;b&gt;Bob&lt;/b&gt;&lt;a href=x&gt;&amp;&lt;/a&gt;", "Ann"]
    go.Figure(fig)  # plotly accepts every property


def test_each_curve_keeps_at_most_400_points_with_its_first_and_last():
    steps, loss = np.arange(1, 10_002), np.linspace(5.0, 1.0, 10_001)
    fig = class_curves(["Ann", "Bob"], [steps, np.arange(50)], [loss, np.ones(50)])
    long, short = fig["data"]
    assert len(long["x"]) <= 400 and long["x"][0] == 1 and long["x"][-1] == 10_001
    assert long["y"][0] == 5.0 and long["y"][-1] == 1.0 and len(short["x"]) == 50
    assert list(decimate(401)) != list(range(401)) and len(decimate(401)) <= 400


def test_the_best_student_is_thick_and_on_top():
    fig = class_curves(["Ann", NASTY, "Cy"], [np.arange(3)] * 3, [np.ones(3)] * 3, best=NASTY)
    widths = {t["name"]: t["line"]["width"] for t in fig["data"]}
    top = fig["data"][-1]
    assert top["name"].startswith("&lt;b&gt;") and top["line"]["width"] > 2 * widths["Ann"] and widths["Ann"] >= 3
    assert "&lt;b&gt;Bob" in fig["layout"]["title"]["text"] and "<b>" not in fig["layout"]["title"]["text"]
    assert fig["layout"]["font"]["size"] >= 16
    plain = class_curves(["Ann", "Cy"], [np.arange(3)] * 2, [np.ones(3)] * 2)
    assert {t["line"]["width"] for t in plain["data"]} == {widths["Ann"]}


def test_no_curve_is_a_titled_figure():
    fig = class_curves([], [], [])
    assert "No student" in fig["layout"]["title"]["text"] and fig["data"]
    go.Figure(fig)


# ---- class_parallel ----

def row(name, best_val, **settings):
    return StudentRow(1, name, "finished", "", "", best_val=best_val, best_settings=MODEL | TRAIN | settings)


def test_the_parallel_chart_shows_what_varies_with_the_learning_rate_as_log10():
    rows = [row("a", 1.5, learning_rate=0.001, rnn_units=64), row("b", 1.2, learning_rate=0.01, rnn_units=256),
            row("c", 1.3, learning_rate=0.1, rnn_units=64), row("d", None, learning_rate=1.0, rnn_units=8)]
    fig = class_parallel(rows)
    (trace,) = fig["data"]
    dims = {d["label"]: d for d in trace["dimensions"]}
    assert list(dims) == ["learning rate (log scale)", "units", "best val. loss"]  # d has no best val: left out
    np.testing.assert_allclose(dims["learning rate (log scale)"]["values"], [-3, -2, -1])
    assert dims["learning rate (log scale)"]["ticktext"] == ["0.001", "0.01", "0.1"]
    np.testing.assert_allclose(trace["line"]["color"], [1.5, 1.2, 1.3])
    np.testing.assert_allclose(dims["best val. loss"]["values"], [1.5, 1.2, 1.3])
    go.Figure(fig)


def test_the_parallel_chart_names_cells():
    fig = class_parallel([row("a", 1.0, cell="lstm"), row("b", 2.0, cell="simple_rnn")])
    cell = next(d for d in fig["data"][0]["dimensions"] if d["label"] == "cell")
    assert cell["ticktext"] == ["LSTM", "SimpleRNN"] and cell["values"] == [0, 1]


def test_fewer_than_two_best_losses_is_a_titled_figure():
    fig = class_parallel([row("a", 1.0), row("b", None)])
    assert fig["data"][0]["type"] != "parcoords" and "two students" in fig["layout"]["title"]["text"]
    go.Figure(fig)


def test_students_who_all_kept_the_class_settings_get_a_sentence_not_a_lone_axis():
    """Two students on the class's settings: the chart was one axis of losses with no line (seen on a board)."""
    fig = class_parallel([row("a", 1.6), row("b", 1.6)])
    assert fig["data"][0]["type"] != "parcoords" and "kept the class's" in fig["layout"]["title"]["text"]
    go.Figure(fig)
