"""What the Text page draws of the loaded text: its most frequent tokens and one training window."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.text.batches import contiguous_batches
from core.text.vocabulary import display_token


def tokens_and_window(vocab, ids, config) -> None:
    """The 15 most frequent tokens beside the first training window (input row over target row) of `config`."""
    left, right = st.columns([1, 2], gap="large")
    with left:
        st.subheader("Most frequent tokens")
        freq = vocab.frequencies().head(15)
        freq["token"] = freq["token"].map(display_token)
        freq["share"] = 100 * freq["share"]  # one decimal for every row (the "percent" format wrote 18.5%, 10.29%)
        st.dataframe(freq, hide_index=True, width="stretch",
                     column_config={"count": st.column_config.NumberColumn("count", format="localized"),
                                    "share": st.column_config.NumberColumn("share", format="%.1f%%")})
    with right:
        st.subheader("One training window")
        st.markdown("The model reads the **input** row and, at every position, must predict the **target** below it: "
                    "the same text shifted by one token.")
        n = min(config.seq_len, 24, len(ids) - 1)
        if len(ids) >= config.batch_size * config.seq_len + 1:
            x, y = next(contiguous_batches(ids, config.batch_size, config.seq_len))
            x, y = x[0, :n], y[0, :n]
        else:
            x, y = ids[:n], ids[1 : n + 1]
        window = pd.DataFrame(
            [[display_token(vocab.tokens[i]) for i in x], [display_token(vocab.tokens[i]) for i in y]],
            index=["input", "target"], columns=[str(t) for t in range(n)],
        )
        st.dataframe(window, width="stretch")
        st.caption("⏎ is a line break and ␣ a space. Columns are time steps t = 0, 1, 2, …")
