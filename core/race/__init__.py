"""The long-range race: a SimpleRNN and an LSTM copying a letter from far back."""
