"""Text in, tokens out: decoding uploads safely and building a character or word vocabulary."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

MAX_TEXT_BYTES = 5_000_000  # the default size limit; .streamlit/config.toml matches it (5 MB)
UNKNOWN = "<unk>"
_WORD_RE = re.compile(r"\n|\w+(?:['’]\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = set(".,;:!?)]}%'’\"”")
_NO_SPACE_AFTER = set("([{\n\"“")


class TextError(ValueError):
    """The input cannot be used as training text; the message says what to do instead."""


class LoadedText(str):
    """A decoded text (a plain `str`) that also remembers how it was decoded.

    Attributes:
        encoding: the encoding that decoded the bytes.
        warning: a sentence for the page when the decoding was a guess, else None.
    """

    encoding: str = "utf-8"
    warning: str | None = None

    def __new__(cls, value: str, encoding: str = "utf-8", warning: str | None = None) -> "LoadedText":
        obj = super().__new__(cls, value)
        obj.encoding = encoding
        obj.warning = warning
        return obj


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def _decode(data: bytes) -> tuple[str, str, str | None]:
    """Decode bytes; return (text, encoding, warning)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", None
        except UnicodeDecodeError:
            raise TextError("The file starts like UTF-16 text but is not valid UTF-16. Save it as UTF-8 and upload it again.") from None
    if b"\x00" in data:
        raise TextError(
            "This looks like a binary file (it contains NUL bytes), not text. "
            "Upload a plain-text file such as .txt, .md or .py, or paste the text instead."
        )
    try:
        return data.decode("utf-8-sig"), "utf-8", None
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise TextError(
            "These bytes are not text in any encoding we tried (UTF-8, UTF-16 with a byte-order mark, Windows-1252). "
            "Open the file in a text editor, save it as UTF-8, and upload it again."
        ) from None
    return text, "cp1252", (
        "This file is not valid UTF-8, so it was read as Windows-1252 (Western European). "
        "If some characters look wrong, save the file as UTF-8 and upload it again."
    )


def load_text(data: bytes | str, max_bytes: int = MAX_TEXT_BYTES) -> LoadedText:
    """Turn uploaded bytes or pasted text into clean training text.

    Args:
        data: the raw bytes of a file, or a string.
        max_bytes: the largest input accepted, in bytes (UTF-8 size for a string).

    Returns:
        The text with newlines normalised to "\\n": a `LoadedText`, which is a `str` whose
        `.warning` says when the encoding had to be guessed.

    Raises:
        TextError: empty, binary, too large or undecodable input, with a sentence saying what to do.
    """
    if not isinstance(data, (bytes, bytearray, str)):
        raise TextError(f"Expected text or the bytes of a file, got {type(data).__name__}.")
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if size > max_bytes:
        raise TextError(
            f"This text is {_mb(size)}, above the limit of {_mb(max_bytes)}. "
            f"Use a shorter excerpt (a few hundred kB is plenty for a character RNN)."
        )
    if isinstance(data, str):
        text, encoding, warning = data, "utf-8", None
        if "\x00" in text:
            raise TextError("This text contains NUL characters, so it is probably binary data. Paste plain text instead.")
    else:
        text, encoding, warning = _decode(bytes(data))
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if not text.strip():
        raise TextError("The text is empty (or only whitespace). Pick a sample, upload a .txt file, or paste some text.")
    if len(set(text)) < 2:
        raise TextError(
            f"This text is one character, “{display_token(text[0])}”, over and over: there is nothing to predict. "
            "Use a text with at least two different characters."
        )
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\t\f\v" or 0x7F <= ord(ch) < 0xA0)
    if control > 0.05 * len(text):
        raise TextError(
            f"{control / len(text):.0%} of these characters are control codes, so this is probably a binary file "
            f"(read as {encoding}). Upload a plain-text file instead."
        )
    return LoadedText(text, encoding, warning)


def tokenize(text: str, level: str) -> list[str]:
    """Split text into characters, or into words, punctuation marks and newlines."""
    if level == "char":
        return list(text)
    if level == "word":
        return _WORD_RE.findall(text)
    raise ValueError(f"Received an invalid value for `level`: expected 'char' or 'word', got {level!r}.")


def join_words(tokens: Iterable[str]) -> str:
    """Join word tokens back into readable text: spaces between words, none before punctuation."""
    out: list[str] = []
    prev = "\n"
    for tok in tokens:
        if out and tok != "\n" and tok[0] not in _NO_SPACE_BEFORE and prev[-1] not in _NO_SPACE_AFTER:
            out.append(" ")
        out.append(tok)
        prev = tok
    return "".join(out)


@dataclass(frozen=True)
class Vocabulary:
    """A mapping between tokens and integer ids.

    Attributes:
        tokens: the token of each id; `tokens[i]` is the token with id i.
        level: "char" or "word".
        counts: how often each token occurred in the text it was built from.
    """

    tokens: tuple[str, ...]
    level: str
    counts: tuple[int, ...]

    @classmethod
    def build(cls, text: str, level: str = "char", max_size: int = 10_000) -> "Vocabulary":
        """Build the vocabulary of `text`.

        Args:
            text: the training text.
            level: "char" for characters, "word" for words, punctuation and newlines.
            max_size: the most ids kept, the unknown token included; rarer tokens map to it.

        Returns:
            A Vocabulary with `len(vocab) <= max_size`. Characters are sorted; when nothing had to be
            dropped there is no unknown token and the text round-trips exactly.
        """
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 2:
            raise ValueError(f"Received an invalid value for `max_size`: expected a whole number of at least 2, got {max_size!r}.")
        counter = Counter(tokenize(text, level))
        if not counter:
            raise TextError("There are no tokens in this text. Use a longer text.")
        if len(counter) < 2:
            name = "character" if level == "char" else "word"
            raise TextError(f"This text has only one distinct {name}, so there is nothing to predict. "
                            "Use characters, or a text with more than one word.")
        if len(counter) <= max_size:
            kept = sorted(counter) if level == "char" else sorted(counter, key=lambda t: (-counter[t], t))
            return cls(tuple(kept), level, tuple(counter[t] for t in kept))
        kept = sorted(counter, key=lambda t: (-counter[t], t))[: max_size - 1]
        if level == "char":
            kept.sort()
        dropped = sum(counter.values()) - sum(counter[t] for t in kept)
        return cls((UNKNOWN, *kept), level, (dropped, *(counter[t] for t in kept)))

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def _index(self) -> dict[str, int]:
        cached = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {t: i for i, t in enumerate(self.tokens)}
            object.__setattr__(self, "_index_cache", cached)
        return cached

    @property
    def unk_id(self) -> int | None:
        """Id of the unknown token, or None when every token of the text has its own id."""
        return 0 if self.tokens and self.tokens[0] == UNKNOWN else None

    def unknown(self, text: str) -> list[str]:
        """The distinct tokens of `text` that have no id of their own."""
        index = self._index
        return sorted({t for t in tokenize(text, self.level) if t not in index})

    def encode(self, text: str) -> np.ndarray:
        """Token ids of `text` as an int32 array; unknown tokens map to `<unk>` (ValueError if there is none)."""
        index, unk = self._index, self.unk_id
        toks = tokenize(text, self.level)
        if unk is None:
            missing = [t for t in dict.fromkeys(toks) if t not in index]
            if missing:
                shown = ", ".join(repr(t) for t in missing[:10])
                raise ValueError(f"These tokens are not in the vocabulary: {shown}. Use only tokens that occur in the training text.")
            return np.fromiter((index[t] for t in toks), dtype=np.int32, count=len(toks))
        return np.fromiter((index.get(t, unk) for t in toks), dtype=np.int32, count=len(toks))

    def decode(self, ids: Iterable[int]) -> str:
        """The text of a sequence of ids."""
        toks = [self.tokens[int(i)] for i in ids]
        return "".join(toks) if self.level == "char" else join_words(toks)

    def to_json(self) -> str:
        """The vocabulary as JSON: {"level": ..., "tokens": [...]}, the token of id i at position i."""
        return json.dumps({"level": self.level, "tokens": list(self.tokens)}, ensure_ascii=False)

    def frequencies(self) -> pd.DataFrame:
        """Tokens with their counts and shares, most frequent first."""
        total = max(sum(self.counts), 1)
        df = pd.DataFrame({"id": range(len(self.tokens)), "token": self.tokens, "count": self.counts})
        df["share"] = df["count"] / total
        return df.sort_values(["count", "id"], ascending=[False, True], ignore_index=True)


def display_token(token: str) -> str:
    """A printable name for a token: newline, tab and space are spelled out."""
    return {"\n": "⏎", "\t": "⇥", " ": "␣"}.get(token, token)
