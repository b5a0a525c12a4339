"""The sample texts shipped in sample_texts/, listed by sample_texts/catalog.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_texts"


@dataclass(frozen=True)
class Sample:
    """One sample text and the line that says what it teaches."""

    file: str
    title: str
    teaches: str
    level: str = "char"
    text: str = ""


def list_samples() -> list[Sample]:
    """The samples in display order, without their texts."""
    entries = json.loads((SAMPLE_DIR / "catalog.json").read_text(encoding="utf-8"))
    return [Sample(e["file"], e["title"], e["teaches"], e.get("level", "char")) for e in entries]


def load_sample(file: str) -> Sample:
    """A sample with its text. Raises KeyError for a file that is not in the catalog."""
    for sample in list_samples():
        if sample.file == file:
            text = (SAMPLE_DIR / file).read_text(encoding="utf-8")
            return Sample(sample.file, sample.title, sample.teaches, sample.level, text)
    raise KeyError(f"No sample named {file!r}; the samples are listed in sample_texts/catalog.json.")
