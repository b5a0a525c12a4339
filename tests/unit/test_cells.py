"""core.cells: the one table of cell kinds agrees with Keras' own layers and with every place that used to keep a copy."""

import numpy as np
import pytest

from core import cells, config
from core.cells import CELLS, KEYS, cell_spec, key_of_layer


@pytest.mark.parametrize("key", KEYS)
def test_each_row_matches_the_keras_layer(key):
    spec = cell_spec(key)
    layer = spec.layer_class()(3)
    layer.build((None, None, 2))
    assert type(layer).__name__ == spec.name and key_of_layer(layer) == key
    assert layer.cell.kernel.shape == (2, spec.gate_count * 3)
    assert layer.cell.recurrent_kernel.shape == (3, spec.gate_count * 3)
    assert int(np.prod(layer.cell.bias.shape)) == spec.biases * spec.gate_count * 3


def test_the_menus_and_names_come_from_the_table():
    assert config.CELLS == KEYS == ("simple_rnn", "lstm", "gru")
    assert config.CELL_NAMES == cells.NAMES == {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
    assert [c.gates for c in CELLS.values()] == [("U",), ("i", "f", "c", "o"), ("z", "r", "h")]


def test_an_unknown_cell_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="expected one of simple_rnn, lstm, gru"):
        cell_spec("transformer")
    assert key_of_layer(object()) is None
