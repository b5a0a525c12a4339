"""core.settings: every environment variable parsed once, bad values refused with a sentence naming the variable
and its range (D7, N24), and the README's settings table lists the same variables."""

import re
from pathlib import Path

import pytest

from core import settings
from core.config import ModelConfig
from core.nn import estimate
from core.workers.admission import max_trainings

ROOT = Path(__file__).resolve().parents[2]
NUMERIC = [v for v in settings.VARIABLES if v.name not in ("RNN_PLAYGROUND_DATA", "RAY_ADDRESS", "RNN_PLAYGROUND_LOG_LEVEL")]


def test_defaults_when_nothing_is_set():
    s = settings.parse({})
    assert (s.max_model_gb, s.warm_workers, s.lanes, s.unroll_max, s.keep_weights) == (4.0, 2, 2, 32, 3)
    assert s.ray_address is None and s.max_trainings is None and s.worker_gpus is None and s.log_level == "INFO"


@pytest.mark.parametrize("var", NUMERIC, ids=lambda v: v.name)
@pytest.mark.parametrize("raw", ["inf", "nan", "-1", "abc", "", "1e99"])
def test_a_bad_value_is_one_sentence_naming_the_variable_and_its_range(var, raw):
    with pytest.raises(settings.SettingsError) as err:
        settings.parse({var.name: raw})
    assert str(err.value).startswith(f"{var.name} is {raw!r}, but it must be {var.accepts}.")
    assert "restart the server" in str(err.value)


@pytest.mark.parametrize("name", ["RNN_PLAYGROUND_MAX_MODEL_GB", "RNN_PLAYGROUND_MAX_TRAININGS", "RNN_PLAYGROUND_LANES",
                                  "RNN_PLAYGROUND_MAX_RUNS", "RNN_PLAYGROUND_KEEP_WEIGHTS"])
def test_zero_is_refused_where_it_would_refuse_everything(name):
    with pytest.raises(settings.SettingsError, match=name):
        settings.parse({name: "0"})


def test_zero_is_accepted_where_it_means_none():
    s = settings.parse({"RNN_PLAYGROUND_WARM_WORKERS": "0", "RNN_PLAYGROUND_UNROLL_MAX": "0",
                        "RNN_PLAYGROUND_WORKER_GPUS": "0", "RNN_PLAYGROUND_WORKER_CPUS": "0"})
    assert (s.warm_workers, s.unroll_max, s.worker_gpus, s.worker_cpus) == (0, 0, 0, 0)


def test_every_bad_variable_is_named_at_once():
    with pytest.raises(settings.SettingsError) as err:
        settings.parse({"RNN_PLAYGROUND_MAX_MODEL_GB": "nan", "RNN_PLAYGROUND_LOG_LEVEL": "loud"})
    assert "RNN_PLAYGROUND_MAX_MODEL_GB is 'nan'" in str(err.value) and "RNN_PLAYGROUND_LOG_LEVEL is 'loud'" in str(err.value)


def test_good_values_are_read(tmp_path):
    s = settings.parse({"RNN_PLAYGROUND_MAX_MODEL_GB": " 0.5 ", "RNN_PLAYGROUND_MAX_TRAININGS": "7",
                        "RAY_ADDRESS": "10.0.0.5:6379", "RNN_PLAYGROUND_DATA": str(tmp_path), "RNN_PLAYGROUND_LOG_LEVEL": "debug"})
    assert (s.max_model_gb, s.max_trainings, s.ray_address, s.data_dir, s.log_level) == (0.5, 7, "10.0.0.5:6379", tmp_path, "DEBUG")
    assert settings.parse({"RAY_ADDRESS": " "}).ray_address is None  # empty means unset, as for Ray itself


def test_the_server_reads_them_once_and_the_readers_follow(monkeypatch):
    monkeypatch.setenv("RNN_PLAYGROUND_MAX_TRAININGS", "7")
    monkeypatch.setenv("RNN_PLAYGROUND_MAX_MODEL_GB", "0.25")
    settings.reload()
    assert max_trainings() == 7 and estimate.memory_limit_bytes() == 2**28
    monkeypatch.setenv("RNN_PLAYGROUND_MAX_TRAININGS", "9")
    assert max_trainings() == 7  # parsed once: a change after start-up is not half-applied


def test_an_explicit_limit_of_zero_bytes_refuses_the_model():
    """D7: `check_fits(limit=0)` used to fall back to the default limit (`limit or ...`)."""
    with pytest.raises(ValueError, match="limit of 0.0 GiB"):
        estimate.check_fits(ModelConfig(vocab_size=10, embedding_dim=4, rnn_units=4, batch_size=2, seq_len=5), limit=0)


def test_the_readme_lists_the_same_variables_as_the_module():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Settings"):readme.index("\n## ", readme.index("## Settings") + 3)]
    listed = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", section, re.M)
    assert [name for name, _ in listed] == [v.name for v in settings.VARIABLES]
    assert [d.strip() for _, d in listed] == [settings.shown(v) for v in settings.VARIABLES]


def test_nothing_else_reads_a_setting_from_the_environment():
    """One settings module (N24): no other product file reads an RNN_PLAYGROUND_ or RAY_ADDRESS variable."""
    readers = []
    for folder in ("core", "ui", "pages"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name != "settings.py" and re.search(r"environ[^\n]*(RNN_PLAYGROUND_|RAY_ADDRESS)|getenv", path.read_text()):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []
