"""core.validation: one set of checks, so every settings dataclass words a bad value the same way."""

import pytest

from core.config import ModelConfig
from core.forecast.model import SeriesModelConfig
from core.forecast.series import WindowConfig
from core.validation import check_choice, check_float, check_int


@pytest.mark.parametrize("make, field", [(ModelConfig, "num_layers"), (SeriesModelConfig, "num_layers"),
                                         (WindowConfig, "lookback")])
@pytest.mark.parametrize("bad", [0, True, 2.0, "3"])
def test_every_config_words_a_bad_whole_number_alike(make, field, bad):
    with pytest.raises(ValueError, match=rf"^Received an invalid value for `{field}`: expected a whole number from \d+ to \d+, got "):
        make(**{field: bad})


def test_the_checks():
    check_int("n", 3, 1, 4)
    check_float("lr", 0.5, 0.0, 1.0, low_open=True)
    check_choice("cell", "gru", ("lstm", "gru"))
    with pytest.raises(ValueError, match=r"expected a number above 0.0 to 1.0, got 0.0\.$"):
        check_float("lr", 0.0, 0.0, 1.0, low_open=True)
    with pytest.raises(ValueError, match=r"expected a number from 0.0 to 1.0, got nan"):
        check_float("p", float("nan"), 0.0, 1.0)
    with pytest.raises(ValueError, match="expected one of lstm, gru, got 'rnn'"):
        check_choice("cell", "rnn", ("lstm", "gru"))
    with pytest.raises(ValueError, match="from 1 to 4, got 5. Lower it."):
        check_int("n", 5, 1, 4, "Lower it.")
