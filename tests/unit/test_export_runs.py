"""The exported code runs and reproduces the app: a tiny text run and a tiny forecaster trained by the app's trainers
in this process, exported, then train.py run in a subprocess and train.ipynb run by nbclient on an ipykernel of this
venv. Both print `epoch N loss X val_loss Y` lines whose val_loss matches the trainer's within 1e-3 relative, and the
exported `.keras` files load in a fresh interpreter. Slow (each starts TensorFlow anew), so out of `make check`."""

import dataclasses
import io
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from core.config import TrainConfig
from core.export.bundle import Weights, series_zip, text_zip
from core.forecast.model import SeriesModelConfig, build_series_model
from core.forecast.series import WindowConfig, synthetic, windows
from core.forecast.trainer import SeriesData, SeriesTrainer
from core.nn.language_model import build_model, keras_file
from core.training.trainer import Trainer
from tests.helpers import FOX, FOX_IDS, FOX_VOCAB, SHORT, SMALL

pytestmark = pytest.mark.slow
EPOCH = re.compile(r"^epoch (\d+) loss (\S+) val_loss (\S+)$", re.M)
RELATIVE = 1e-3


def _unzipped(data: bytes, where):
    zipfile.ZipFile(io.BytesIO(data)).extractall(where)
    return where / "run"


def _val_losses(output: str, epochs: int) -> list[float]:
    found = EPOCH.findall(output)
    assert [int(n) for n, _, _ in found] == list(range(1, epochs + 1)), output[-2000:]
    return [float(v) for _, _, v in found]


def _run_script(folder) -> str:
    done = subprocess.run([sys.executable, "train.py"], cwd=folder, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _run_notebook(folder) -> str:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(folder / "train.ipynb", as_version=4)
    NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)


def _matches(theirs: list[float], ours) -> None:
    rel = np.abs(np.array(theirs) - np.array(ours)) / np.abs(np.array(ours))
    print("relative val_loss difference per epoch:", [f"{r:.1e}" for r in rel])
    assert np.all(rel < RELATIVE), (theirs, list(ours))


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    """A tiny char run trained by the app's Trainer (3 epochs of 20 batches, no dropout), exported: (folder, progress)."""
    train = dataclasses.replace(SHORT, epochs=3)
    model = build_model(SMALL)
    trainer = Trainer(model, SMALL, train, FOX_IDS, FOX_VOCAB)
    trainer.start()
    trainer.join(120)
    p = trainer.progress()
    assert p.status == "finished" and len(p.val_loss) == 3
    weights = Weights(keras_file(model), p.step, p.epoch)
    folder = _unzipped(text_zip(SMALL, train, FOX, FOX_VOCAB, weights, "the fox"), tmp_path_factory.mktemp("text"))
    return folder, p, model.get_weights()


def test_the_text_script_reproduces_the_trainers_val_losses_and_its_last_sample(text_run):
    folder, p, _ = text_run
    out = _run_script(folder)
    _matches(_val_losses(out, 3), p.val_loss)
    assert p.samples[-1][1] in out  # the same draws from the same seed: the app's last sample
    assert (folder / "trained.keras").stat().st_size > 0


def test_the_text_notebook_reproduces_the_trainers_val_losses(text_run):
    folder, p, _ = text_run
    _matches(_val_losses(_run_notebook(folder), 3), p.val_loss)


@pytest.fixture(scope="module")
def forecaster(tmp_path_factory):
    """A tiny differenced forecaster trained by the app's SeriesTrainer, exported: (folder, progress)."""
    series = synthetic(300, period=20, noise=0.05, season_period=60, season_amplitude=0.3, seed=1)
    window = WindowConfig(lookback=12, horizon=2, difference=True, season=20)
    w = windows(series.values, window)
    config, train = SeriesModelConfig(rnn_units=8, batch_size=16, seed=5), TrainConfig(epochs=3, learning_rate=0.01)
    model = build_series_model(config, window)
    trainer = SeriesTrainer(model, config, window, train, SeriesData(w.x["train"], w.y["train"], w.x["val"], w.y["val"]))
    trainer.start()
    trainer.join(120)
    p = trainer.progress()
    assert p.status == "finished" and len(p.val_loss) == 3
    csv = "time,value\n" + "".join(f"{t},{float(v)!r}\n" for t, v in zip(series.time, series.values))
    data = series_zip(config, window, train, csv, Weights(keras_file(model), p.step, p.epoch), "sine")
    return _unzipped(data, tmp_path_factory.mktemp("series")), p, model.get_weights()


def test_the_forecaster_script_reproduces_the_trainers_val_losses_and_writes_the_baselines(forecaster):
    folder, p, _ = forecaster
    out = _run_script(folder)
    _matches(_val_losses(out, 3), p.val_loss)
    for name in ("persistence", "seasonal naive", "linear AR", "SimpleRNN"):
        assert re.search(rf"{name}\s+MAE \S+\s+RMSE \S+", out), out[-2000:]


def test_the_forecaster_notebook_reproduces_the_trainers_val_losses(forecaster):
    folder, p, _ = forecaster
    _matches(_val_losses(_run_notebook(folder), 3), p.val_loss)


def test_the_exported_keras_files_load_in_a_fresh_interpreter_with_the_apps_weights(text_run, forecaster, tmp_path):
    check = ("import sys, keras, numpy as np\n"
             "for i, path in enumerate(sys.argv[1:]):\n"
             "    np.savez(f'{i}.npz', *keras.saving.load_model(path).get_weights())\n")
    paths = [str(text_run[0] / "weights.keras"), str(forecaster[0] / "weights.keras")]
    done = subprocess.run([sys.executable, "-c", check, *paths], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    for i, (_, _, weights) in enumerate((text_run, forecaster)):
        loaded = np.load(tmp_path / f"{i}.npz")
        assert len(loaded.files) == len(weights)
        for j, w in enumerate(weights):
            np.testing.assert_array_equal(loaded[f"arr_{j}"], w)
