"""core.export, without running anything it writes (tests/unit/test_export_runs.py runs it): the zip's files, a script a
student can read (sections, at most ~150 lines, only Keras, TensorFlow and NumPy), the notebook's cells, every setting's
code compiling, and the sentences for a run without weights or without its text."""

import ast
import dataclasses
import io
import json
import re
import zipfile
from types import SimpleNamespace

import nbformat
import pytest

from core.config import TrainConfig
from core.export.bundle import NO_WEIGHTS, TEXT_GONE, ExportError, Weights, requirements, run_zip, series_zip, text_zip
from core.export.notebook import sections
from core.export.script import series_script, text_script
from core.forecast.model import SeriesModelConfig
from core.forecast.series import WindowConfig
from core.runs.reopen import vocab_json
from core.text.vocabulary import Vocabulary, tokenize
from tests.helpers import FOX, FOX_VOCAB, SHORT, SMALL

ALLOWED = {"json", "re", "csv", "keras", "numpy", "tensorflow"}
SECTIONS = ["Settings", "Data", "Model", "Training"]


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name.split("/", 1)[1]: z.read(name) for name in z.namelist()}


def _imports(code: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add((node.module or ".").split(".")[0])
    return found


def test_a_text_run_zip_holds_its_code_data_vocabulary_requirements_and_weights():
    files = _files(text_zip(SMALL, SHORT, FOX, FOX_VOCAB, Weights(b"keras bytes", 40, 2), "run 3 · the fox", "run-3"))
    assert set(files) == {"train.py", "train.ipynb", "text.txt", "vocabulary.json", "requirements.txt", "README.md",
                          "weights.keras"}
    assert files["text.txt"].decode() == FOX and files["weights.keras"] == b"keras bytes"
    assert json.loads(files["vocabulary.json"])["tokens"] == list(FOX_VOCAB.tokens)
    assert re.search(r"^keras==3\.\d+", files["requirements.txt"].decode(), re.M)
    assert {line.split("==")[0] for line in requirements().splitlines() if "==" in line} == {"keras", "tensorflow", "numpy"}
    assert "step 40 (epoch 2)" in files["README.md"].decode()
    code = files["train.py"].decode()
    assert len(code.splitlines()) <= 150
    assert _imports(code) <= ALLOWED
    assert not re.search(r"\b(core|ray|streamlit|ui)\b\.", code) and "lane" not in code.lower()
    assert [title for title, _, _ in sections(code)[1]] == SECTIONS + ["Sampling"]
    assert "run 3 · the fox" in code.splitlines()[0]


def test_the_notebook_has_the_scripts_code_in_cells_under_explanations():
    code = text_script(SMALL, SHORT, "char", "fox")
    nb = nbformat.reads(_files(text_zip(SMALL, SHORT, FOX, FOX_VOCAB, None, "fox"))["train.ipynb"].decode(), as_version=4)
    nbformat.validate(nb)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["markdown"] + ["markdown", "code"] * 5
    assert [c.source.splitlines()[0] for c in nb.cells[1::2]] == [f"## {t}" for t in SECTIONS + ["Sampling"]]
    assert all(len(c.source.splitlines()) > 2 for c in nb.cells[1::2])  # each title has its explanation
    for cell in nb.cells[2::2]:
        assert cell.source in code


def test_without_weights_the_zip_and_its_readme_say_so():
    files = _files(text_zip(SMALL, SHORT, FOX, FOX_VOCAB, None, "fox"))
    assert "weights.keras" not in files and NO_WEIGHTS in files["README.md"].decode()


@pytest.mark.parametrize("changes", [
    dict(cell="lstm", num_layers=2), dict(cell="gru", stateful=False, dropout=0.2),
    dict(recurrent_initializer="identity", activation="relu"), dict(recurrent_initializer="random_normal"),
    dict(recurrent_initializer="glorot_uniform"),
])
def test_every_setting_writes_code_that_compiles(changes):
    for optimizer in ("adam", "rmsprop", "sgd"):
        code = text_script(dataclasses.replace(SMALL, **changes), dataclasses.replace(SHORT, optimizer=optimizer), "word", "x")
        compile(code, "train.py", "exec")
        assert f"{changes.get('cell', 'simple_rnn')}_language_model" in code


def test_the_scripts_word_tokens_are_the_apps():
    text = "Don't stop.\nIt's 3 o'clock, isn't it? (Yes!)"
    pattern = re.search(r're\.findall\(r"(.+?)", text\)', text_script(SMALL, SHORT, "word", "x")).group(1)
    assert re.findall(pattern, text) == tokenize(text, "word")


def test_a_forecaster_zip_holds_its_series_and_code_with_the_baselines():
    config, window = SeriesModelConfig(cell="gru", num_layers=2), WindowConfig(lookback=10, horizon=3, difference=True, season=12)
    files = _files(series_zip(config, window, TrainConfig(epochs=2), "time,value\n0,1.0\n1,2.0\n", None, "sine"))
    assert set(files) == {"train.py", "train.ipynb", "series.csv", "requirements.txt", "README.md"}
    code = files["train.py"].decode()
    compile(code, "train.py", "exec")
    assert _imports(code) <= ALLOWED and len(code.splitlines()) <= 150
    assert [t for t, _, _ in sections(code)[1]] == SECTIONS + ["Forecasts and baselines"]
    assert all(name in code for name in ('"persistence"', '"seasonal naive"', '"linear AR"', "MAE", "RMSE"))
    assert "GRU_forecaster" in series_script(config, window, TrainConfig(), "x")


class _Store:
    """What run_zip reads of a run store: one text run, its text (or none), its weights files."""

    def __init__(self, text, weights=()):
        self._text, self._weights = text, list(weights)

    def run(self, workspace, run_id):
        return {"id": run_id, "kind": "text", "name": "run 1", "text_hash": "h", "vocab": vocab_json(FOX_VOCAB),
                "model": json.dumps(dataclasses.asdict(SMALL)), "train": json.dumps(dataclasses.asdict(SHORT))}

    def text(self, key):
        return self._text

    def weights(self, workspace, run_id):
        return self._weights


def test_a_stored_run_exports_its_latest_weights_and_one_whose_text_is_gone_gives_a_sentence(tmp_path):
    newest, older = tmp_path / "40.keras", tmp_path / "20.keras"
    older.write_bytes(b"older")
    saved = [SimpleNamespace(path=newest, step=40, epoch=2), SimpleNamespace(path=older, step=20, epoch=1)]
    files = _files(run_zip(_Store(FOX, saved), "ws", 1))  # the newest file is missing: the one before it is shipped
    assert files["weights.keras"] == b"older" and "step 20 (epoch 1)" in files["README.md"].decode()
    assert Vocabulary(tuple(json.loads(files["vocabulary.json"])["tokens"]), "char", ()).tokens == FOX_VOCAB.tokens
    with pytest.raises(ExportError, match=re.escape(TEXT_GONE)):
        run_zip(_Store(None), "ws", 1)
