"""core.text.vocabulary: decoding uploads, refusing bad ones with a useful sentence, vocabularies."""

import numpy as np
import pytest

from core.text.vocabulary import MAX_TEXT_BYTES, UNKNOWN, TextError, Vocabulary, load_text


def test_utf8_with_and_without_bom_and_newlines():
    assert load_text("héllo\r\nworld\rok".encode("utf-8")) == "héllo\nworld\nok"
    assert load_text(b"\xef\xbb\xbfhello") == "hello"
    assert load_text("plain str\r\n") == "plain str\n"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom(codec):
    data = "naïve café\n" .encode(codec)
    if codec != "utf-16":
        data = ("\ufeff" + "naïve café\n").encode(codec)
    assert load_text(data) == "naïve café\n"


def test_latin1_fallback_warns():
    text = load_text("café au lait".encode("cp1252"))
    assert text == "café au lait"
    assert text.encoding == "cp1252" and "Windows-1252" in text.warning
    assert load_text(b"fine").warning is None


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"   \n\t  ", "empty"),
        ("   ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (bytes(range(1, 32)) * 50, "control codes"),
        (b"\x81\x8d\x8f\x90\x9d" * 10, "UTF-8, UTF-16"),
    ],
)
def test_bad_input_raises_a_sentence(data, words):
    with pytest.raises(TextError, match=words):
        load_text(data)


def test_size_limit_names_the_limit():
    with pytest.raises(TextError, match=r"This text is 0\.3 MB, above the limit of 0\.2 MB\. Use a shorter excerpt"):
        load_text(b"a" * 300_000, max_bytes=200_000)
    assert load_text(b"ab" * 100_000, max_bytes=200_000) == "ab" * 100_000  # at the limit exactly: accepted
    with pytest.raises(TextError, match="5.0 MB"):
        load_text(b"a" * (MAX_TEXT_BYTES + 1))
    assert isinstance(TextError("x"), ValueError)


def test_char_vocab_round_trips_exactly():
    text = "Hello, world!\nÜber ∑ 3.14\n"
    vocab = Vocabulary.build(text, "char")
    ids = vocab.encode(text)
    assert ids.dtype == np.int32 and len(ids) == len(text)
    assert vocab.decode(ids) == text
    assert len(vocab) == len(set(text)) and vocab.unk_id is None
    assert list(vocab.tokens) == sorted(set(text))


def test_char_vocab_rejects_unseen_chars_with_names():
    vocab = Vocabulary.build("abc", "char")
    with pytest.raises(ValueError, match="'z'"):
        vocab.encode("abz")
    assert vocab.unknown("abzq") == ["q", "z"]


def test_word_vocab_keeps_punctuation_newlines_and_caps_size():
    text = "the cat sat. the dog sat!\nthe end, the cat.\n" + " ".join(f"w{i}" for i in range(50))
    vocab = Vocabulary.build(text, "word", max_size=10)
    assert len(vocab) <= 10 and vocab.tokens[0] == UNKNOWN and vocab.unk_id == 0
    for tok in ["the", ".", "\n", "cat", "sat"]:
        assert tok in vocab.tokens
    ids = vocab.encode("the cat sat.\nzebra")
    assert vocab.decode(ids) == f"the cat sat.\n{UNKNOWN}"
    full = Vocabulary.build("Hello, world.\nIt's fine!", "word")
    assert full.decode(full.encode("Hello, world.\nIt's fine!")) == "Hello, world.\nIt's fine!"


def test_frequencies_table():
    df = Vocabulary.build("aaabbc", "char").frequencies()
    assert list(df["token"]) == ["a", "b", "c"] and list(df["count"]) == [3, 2, 1]
    assert df["share"].sum() == pytest.approx(1.0)


def test_bad_vocab_arguments():
    with pytest.raises(ValueError, match="level"):
        Vocabulary.build("abc", "sentence")
    with pytest.raises(ValueError, match="max_size"):
        Vocabulary.build("abc", "char", max_size=1)


def test_one_distinct_character_or_word_is_refused():
    with pytest.raises(TextError, match="one character"):
        load_text("aaaa\n".replace("\n", "") * 100)
    with pytest.raises(TextError, match="one distinct word"):
        Vocabulary.build("hey hey hey", "word")
    assert len(Vocabulary.build("hey hey hey", "char")) == 4  # h, e, y and the space
