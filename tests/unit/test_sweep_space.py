"""core.sweeps: value lists and ranges read into checked axes, the planned trials, and the sentences for bad input."""

import pytest

from core.config import QUICK_DEMO, QUICK_DEMO_TRAIN
from core.sweeps.plan import SweepSpec, make_spec, plan
from core.sweeps.space import SweepError, parse_axis, parse_space


def test_lists_and_ranges_become_the_values_a_grid_tries():
    assert parse_axis("units", "64, 128 256").grid() == (64, 128, 256)
    assert parse_axis("learning_rate", "0.001..0.1").grid() == (0.001, 0.01, 0.1)  # log-spaced
    assert parse_axis("units", "32..128:4").grid() == (32, 64, 96, 128)
    assert parse_axis("cell", "SimpleRNN, lstm").grid() == ("simple_rnn", "lstm")  # Keras' names or the config's
    assert parse_axis("dropout", "0..0.4:3").grid() == (0.0, 0.2, 0.4)


@pytest.mark.parametrize("key, text, sentence", [
    ("units", "", "Give the units a list of values"),
    ("units", "64, x", 'The units value "x" is not a number'),
    ("units", "64.5", "The units must be a whole number"),
    ("units", "0, 64", "The units value 0 is out of range: it must be from 1 to 4096"),
    ("learning_rate", "0", "The learning rate value 0 is out of range: it must be from 1e-05 to 10"),
    ("learning_rate", "1e-6, 0.01", "The learning rate value 1e-6 is out of range: it must be from 1e-05 to 10"),
    ("learning_rate", "nan", "is not a finite number"),
    ("dropout", "0.95", "The dropout value 0.95 is out of range"),
    ("units", "128..64", "runs backwards"),
    ("units", "64..128:0", "asks for '0' values"),
    ("units", "..128", "is not of the form low..high"),
    ("cell", "lstm..gru", "takes a list of values, not a range"),
    ("optimizer", "adamw", 'The optimizer cannot be "adamw"'),
])
def test_a_bad_value_list_is_a_sentence_naming_the_setting(key, text, sentence):
    with pytest.raises(SweepError, match=None) as err:
        parse_axis(key, text)
    assert sentence in str(err.value), str(err.value)


def test_the_space_takes_one_to_three_known_settings():
    with pytest.raises(SweepError, match="Choose at least one setting"):
        parse_space({})
    with pytest.raises(SweepError, match="at most 3 settings"):
        parse_space({"units": "1", "layers": "1", "batch": "8", "embedding": "8"})


def test_a_plan_changes_only_the_varied_settings_and_counts_against_the_limit():
    spec = make_spec({"learning_rate": "0.001, 0.01", "units": "64, 128"}, epochs=4)
    trials = plan(spec, QUICK_DEMO, QUICK_DEMO_TRAIN, 32)
    assert [(t.train.learning_rate, t.model.rnn_units) for t in trials] == [(0.001, 64), (0.001, 128), (0.01, 64), (0.01, 128)]
    assert {t.train.epochs for t in trials} == {4} and {t.model.embedding_dim for t in trials} == {QUICK_DEMO.embedding_dim}
    assert trials[1].label() == "learning rate 0.001, units 128"
    with pytest.raises(SweepError, match="This sweep has 4 trials, more than this server allows \\(3"):
        plan(spec, QUICK_DEMO, QUICK_DEMO_TRAIN, 3)
    assert SweepSpec.from_json(spec.to_json()) == spec


def test_a_random_search_draws_the_same_trials_from_the_same_seed_within_the_ranges():
    spec = make_spec({"learning_rate": "0.0001..0.1", "units": "32, 64"}, search="random", trials=6, seed=3)
    a, b = plan(spec, QUICK_DEMO, QUICK_DEMO_TRAIN, 32), plan(spec, QUICK_DEMO, QUICK_DEMO_TRAIN, 32)
    assert [t.changes for t in a] == [t.changes for t in b] and len(a) == 6
    assert all(0.0001 <= t.train.learning_rate <= 0.1 and t.model.rnn_units in (32, 64) for t in a)
