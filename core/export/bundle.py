"""A run as a zip a student takes home: train.py, train.ipynb, the data, the vocabulary, pinned requirements and,
when it has any, its latest weights. Built only when asked for (a download button's callable), never per redraw."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass
from importlib import metadata

from core.config import ModelConfig, TrainConfig
from core.export import script as scripts
from core.export.notebook import notebook
from core.text.vocabulary import Vocabulary

log = logging.getLogger(__name__)
NO_WEIGHTS = ("The weights are not included: this run had no saved weights when it was exported (they are saved at "
              "epoch ends and stops). train.py trains the model from its first step.")
TEXT_GONE = ("This run's text is no longer in the store, so its code cannot be exported: train.py needs the text it "
             "learned from. Train again on the text to export the new run.")


class ExportError(ValueError):
    """The run cannot be exported; the message says why and what to do."""


@dataclass(frozen=True)
class Weights:
    """A checkpoint to ship: the `.keras` file's bytes and where the training stood."""

    data: bytes
    step: int
    epoch: int


def requirements() -> str:
    """requirements.txt pinning the Keras, TensorFlow and NumPy this app runs."""
    def version(*names: str) -> str:
        for name in names:
            try:
                return metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        raise ExportError(f"{names[0]} is not installed in this app's environment, so its version cannot be pinned.")

    return ("# The versions the RNN Playground ran this run with: pip install -r requirements.txt\n"
            f"keras=={version('keras')}\ntensorflow=={version('tensorflow', 'tensorflow-cpu')}\nnumpy=={version('numpy')}\n")


def _readme(title: str, data_line: str, weights: Weights | None) -> str:
    kept = (f"- `weights.keras`: the app's weights at step {weights.step:,} (epoch {weights.epoch}). "
            "`keras.saving.load_model(\"weights.keras\")` loads them." if weights else f"- {NO_WEIGHTS}")
    return (f"# {title}\n\nExported from the RNN Playground.\n\n"
            "- `train.py`: trains the run again in plain Keras 3 (`pip install -r requirements.txt`, then "
            "`python train.py`). It prints `epoch N loss X val_loss Y` per epoch, the validation loss the app showed.\n"
            "- `train.ipynb`: the same code in cells, each with a short explanation.\n"
            f"- {data_line}\n- `requirements.txt`: the versions of Keras, TensorFlow and NumPy the app ran.\n{kept}\n")


def _zip(folder: str, files: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(f"{folder}/{name}", body.encode("utf-8") if isinstance(body, str) else body)
    return out.getvalue()


def _safe(title: str) -> str:
    """A run name fit for a docstring and a heading."""
    return " ".join(title.replace("\\", "/").replace('"', "'").split()) or "A run"


def text_zip(config: ModelConfig, train: TrainConfig, text: str, vocab: Vocabulary, weights: Weights | None,
             title: str, folder: str = "run") -> bytes:
    """The zip of a text run.

    Args:
        config, train: the run's settings.
        text: the whole text it learned from (validation is its end).
        vocab: its vocabulary (the token order the ids follow).
        weights: its latest checkpoint, or None (the README then says the weights are not included).
        title: the run's name; folder: the folder the zip holds everything in.

    Returns:
        The zip file's bytes.
    """
    title = _safe(title)
    code = scripts.text_script(config, train, vocab.level, title)
    files = {"train.py": code, "train.ipynb": notebook(code, title), scripts.TEXT_FILE: text,
             "vocabulary.json": vocab.to_json(), "requirements.txt": requirements(),
             "README.md": _readme(title, f"`{scripts.TEXT_FILE}` and `vocabulary.json`: the text and its tokens, in "
                                         "the order of their ids.", weights)}
    if weights:
        files["weights.keras"] = weights.data
    return _zip(folder, files)


def series_zip(config, window, train: TrainConfig, series_csv: str, weights: Weights | None, title: str,
               folder: str = "run") -> bytes:
    """The zip of a forecaster: as `text_zip`, with the series as a CSV (columns time and value) instead of a text and
    a vocabulary (a forecaster reads numbers); `config` is a `SeriesModelConfig`, `window` a `WindowConfig`."""
    title = _safe(title)
    code = scripts.series_script(config, window, train, title)
    files = {"train.py": code, "train.ipynb": notebook(code, title), scripts.SERIES_FILE: series_csv,
             "requirements.txt": requirements(),
             "README.md": _readme(title, f"`{scripts.SERIES_FILE}`: the series, one row per time step.", weights)}
    if weights:
        files["weights.keras"] = weights.data
    return _zip(folder, files)


def latest_weights(store, workspace: str, run_id: int) -> Weights | None:
    """The run's newest saved checkpoint that can be read from disk, or None."""
    for saved in store.weights(workspace, run_id):
        try:
            return Weights(saved.path.read_bytes(), saved.step, saved.epoch)
        except OSError as err:
            log.warning("Run %s: weights file %s could not be read for the export", run_id, saved.path, exc_info=err)
    return None


def run_zip(store, workspace: str, run_id: int) -> bytes:
    """The zip of stored run `run_id` of `workspace` (a text run or a forecaster).

    Raises:
        ExportError: the run is gone, or its text or series is no longer in the store.
    """
    from core.forecast.model import SeriesModelConfig
    from core.forecast.series import WindowConfig
    from core.runs.reopen import settings, vocab_from_json

    run = store.run(workspace, run_id)
    if run is None:
        raise ExportError("That run is no longer in this workspace (it was deleted), so there is nothing to export.")
    body = store.text(run["text_hash"])
    if body is None:
        raise ExportError(TEXT_GONE)
    weights, folder = latest_weights(store, workspace, run_id), f"run-{run_id}"
    if run["kind"] == "series":
        saved = json.loads(run["model"])
        return series_zip(SeriesModelConfig(**saved["config"]), WindowConfig(**saved["window"]),
                          TrainConfig(**json.loads(run["train"])), body, weights, run["name"], folder)
    config, train = settings(run)
    return text_zip(config, train, body, vocab_from_json(run["vocab"]), weights, run["name"], folder)


def zip_name(run_id: int | None) -> str:
    """The file name the download gets."""
    return f"run-{run_id}-code.zip" if run_id is not None else "run-code.zip"
