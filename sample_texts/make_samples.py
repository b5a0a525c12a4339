"""Write the sample texts of the Text page, deterministically, from nothing but this file.

Every text is generated here from our own word lists and templates (fixed seeds, Python stdlib
only); nothing is downloaded or copied. Run it from anywhere:

    python sample_texts/make_samples.py          # (re)writes the .txt files and catalog.json
    python sample_texts/make_samples.py --check  # exits 1 if a file on disk differs from a fresh run

The texts:
    prose.txt       Lighthouse prose: a hand-written grammar of chapters about a lighthouse keeper.
    code.txt        Python-like source: random but syntactically valid modules (checked with ast).
    rhyme.txt       A rhyming song: numbered AABB verses in a fixed shape, each followed by a chorus.
    short_range.txt The same remember-the-key task with lags 5..15 (same format, filler 2..12).
    long_range.txt  Remember-the-key task (format below).
    tiny.txt        A ~6 kB toy song (one four-line verse shape), for quick tests (a few batches of 32 x 64).

long_range.txt, exact format: one task per line,

    K:FILLER>K

    K       the key, one letter drawn uniformly from "abcdefgh";
    FILLER  n characters drawn uniformly from "xyz" (noise from another alphabet), n uniform in
            7..57, so the LAG, the distance in characters from the key to its copy, is n + 3,
            uniform in 10..60 (mean 35);
    >K      the key again; then a newline.

Nothing but the key predicts the character after ">": a model that forgot the key guesses among 8
letters (loss ln 8 = 2.08 nats on that character), one that remembers gets it right. The noise is
unpredictable, so the total loss cannot fall below about ln 3 = 1.10 nats on filler characters;
watch generated samples instead (`long_range_accuracy` below scores them).

Measured on 2 CPU cores with the quick-demo model (Embedding 32, 128 units, stateful, batch 32 x 64,
Adam 0.003, clip 5; about 30 ms a batch): on long_range.txt an LSTM sat at chance for ~1,500
batches, then copied the key at every lag 10..60 (100% on fresh lines) after ~4,000 batches
(2.5 min); its loss fell from 1.17 to the floor of 1.11 nats/char. A SimpleRNN stayed at chance
(~12%) at every lag for 11,000 batches. On short_range.txt the SimpleRNN reached 100% at lags
5..15 after ~2,400 batches (1 min).
"""

from __future__ import annotations

import ast
import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------

_SLOT = re.compile(r"\{(\w+)\}")


def expand(template: str, rules: dict[str, list[str]], ctx: dict[str, str], rng: random.Random, depth: int = 0) -> str:
    """Fill {slots} in a template: context variables first, then a rule picked at random, recursively.

    A slot {x} looks up ctx["x"], then rules["x_<season>"] (so rules can depend on the season), then
    rules["x"].
    """
    if depth > 12:
        raise RecursionError(f"grammar too deep at {template!r}")

    def fill(m: re.Match) -> str:
        name = m.group(1)
        if name in ctx:
            return ctx[name]
        seasonal = f"{name}_{ctx.get('season', '')}"
        options = rules.get(seasonal) or rules.get(name)
        if options is None:
            raise KeyError(f"no rule for {{{name}}}")
        return expand(rng.choice(options), rules, ctx, rng, depth + 1)

    return _SLOT.sub(fill, template)


def cap(sentence: str) -> str:
    """Uppercase the first letter (skipping a leading quote mark)."""
    for i, ch in enumerate(sentence):
        if ch.isalpha():
            return sentence[:i] + ch.upper() + sentence[i + 1 :]
    return sentence


# ---------------------------------------------------------------------------------------------
# 1. Prose: a year in the life of a lighthouse keeper
# ---------------------------------------------------------------------------------------------

SEASONS = ["spring", "summer", "autumn", "winter"]

# (full name for a first mention, short name, subject pronoun, possessive, work they are doing)
VILLAGERS = [
    ("old Tobias the fisherman", "Tobias", "he", "his", "mending his nets on the quay"),
    ("Ilse the baker", "Ilse", "she", "her", "pulling loaves out of her oven"),
    ("young Pim", "Pim", "he", "his", "skipping stones across the harbour"),
    ("Mr. Hale the schoolteacher", "Mr. Hale", "he", "his", "ringing the bell for the children"),
    ("Arno the ferryman", "Arno", "he", "his", "tarring the bottom of his boat"),
    ("the widow Brandt", "Mrs. Brandt", "she", "her", "hanging her washing in the wind"),
    ("Greta the postwoman", "Greta", "she", "her", "sorting letters on the steps of the post office"),
    ("the doctor, Mr. Voss", "Dr. Voss", "he", "his", "walking to the far farms with his black bag"),
    ("little Hanna", "Hanna", "she", "her", "feeding crusts to the ducks by the pond"),
    ("Jonas the carpenter", "Jonas", "he", "his", "planing a new door for the chapel"),
]

PROSE_RULES: dict[str, list[str]] = {
    # --- chapter titles, by season
    "title_spring": ["The Thaw", "The Gulls Return", "Planting Day", "Lambs on the Hill", "The Green Tide", "A Letter in March", "Fresh Paint"],
    "title_summer": ["Long Light", "The Regatta", "Salt and Honey", "Low Tide", "The Summer Fair", "A Swim at Dawn", "The Blue Boat"],
    "title_autumn": ["The Apple Boats", "The First Gale", "Mending Nets", "The Grey Fog", "Harvest Supper", "Falling Leaves", "A Ship Off Course"],
    "title_winter": ["The First Frost", "Ice in the Harbour", "The Longest Night", "Snow on the Rocks", "A Ship in the Storm", "Candles", "The Frozen Pond"],
    # --- time and weather
    "time": ["Early in the morning", "Before the sun was up", "At first light", "Just after dawn", "On a quiet morning", "That morning"],
    "weather_spring": ["a soft rain drifted in from the sea", "the wind turned mild and smelled of earth", "thin clouds raced over the headland", "the sun broke through after a week of rain", "a light mist lay over the fields"],
    "weather_summer": ["the sky was clear and very blue", "the sun rose hot over the water", "a warm breeze came in from the south", "the air was still and heavy", "a haze lay over the bay"],
    "weather_autumn": ["a cold wind came down from the north", "grey clouds hung low over the bay", "the fog rolled in and hid the village", "rain beat against the windows", "the first storm of the year blew in"],
    "weather_winter": ["snow fell softly on the roofs", "a hard frost covered the rocks", "the wind howled around the tower", "the sky was white and heavy with snow", "ice had formed along the shore"],
    "sea": ["the sea was calm and flat like a sheet of glass", "the sea was rough and the waves broke white on the rocks", "long slow waves rolled in and broke on the shingle", "the tide was out and the rocks lay bare and shining", "the water was dark and restless"],
    "season_sign_spring": ["the first green buds showed on the hedges", "the lambs were crying on the hill", "the fishermen were painting their boats", "primroses grew along the lane", "the swallows came back to the barn"],
    "season_sign_summer": ["the children ran barefoot on the beach", "the fields were full of poppies", "tourists walked along the harbour wall", "the bees were busy in the clover", "the evenings stayed light until late"],
    "season_sign_autumn": ["the apples were ripe in the orchards", "the leaves turned red and gold", "the swallows gathered on the wires", "the farmers brought in the last of the hay", "smoke rose from every chimney"],
    "season_sign_winter": ["the pond behind the church froze over", "the boats stayed in the harbour", "the children built a snowman by the well", "the days grew short and the nights grew long", "every window in the village glowed with candles"],
    "smell_spring": ["smell of wet earth", "smell of fresh paint", "scent of blossom"],
    "smell_summer": ["smell of salt and seaweed", "scent of cut grass", "smell of warm tar"],
    "smell_autumn": ["smell of wood smoke", "smell of apples", "scent of wet leaves"],
    "smell_winter": ["smell of wood smoke", "smell of hot bread", "smell of snow"],
    "place": ["the harbour", "the headland", "the little church", "the fields above the village", "the bay", "the rocks below the tower"],
    "street": ["narrow streets", "market square", "harbour wall", "lane by the church", "cottages by the shore"],
    "gulls": ["circled and cried", "sat in a row on the harbour wall", "fought over a fish head", "drifted on the wind", "followed the fishing boats"],
    "boats": ["rocked gently at their moorings", "were pulled up high on the shingle", "went out one by one", "came home heavy with fish", "waited for the tide"],
    # --- the keeper at work
    "steps": ["one hundred and twelve", "one hundred and twelve stone", "one hundred and twelve narrow"],
    "lens": ["it shone like a second sun", "she could see her own face in the glass", "not one speck of salt was left on it", "the brass gleamed"],
    "direction": ["north", "north east", "east", "south east", "south", "south west", "west", "north west"],
    "sea_state": ["calm", "slight", "moderate", "rough", "very rough"],
    "visibility": ["good visibility", "fog patches", "poor visibility", "clear all night", "rain at times"],
    "chore": ["trimmed the wicks", "carried oil up from the store", "swept the gallery", "wound the clockwork that turned the light", "cleaned the soot from the lamp glass"],
    "chore_out": ["painted the railings", "chopped wood for the stove", "mended the shutter that banged in the wind", "checked the foghorn", "dug the potatoes behind the cottage", "fetched water from the well"],
    "cat_name": ["Biscuit"],
    "cat": ["slept in the warm sun on the window sill", "watched the gulls with great interest", "followed her up the stairs", "curled up by the stove", "sat on the logbook and would not move", "chased a moth around the lamp room"],
    # --- the village and a visitor
    "greeting": ["Good morning", "Good day", "Hello", "Morning"],
    "remark_spring": ["The ground is soft enough to dig at last.", "Have you seen the lambs on the hill?", "The boats will go out again next week.", "My garden is full of weeds already."],
    "remark_summer": ["It is too hot to work today.", "The fish are jumping in the bay.", "Are you coming to the fair on Saturday?", "The tourists have eaten all my bread."],
    "remark_autumn": ["There is a gale coming, I can feel it in my bones.", "The apples are good this year.", "The fog was so thick I could not see my own feet.", "The nights are drawing in."],
    "remark_winter": ["It is cold enough to freeze the sea.", "The road over the hill is closed with snow.", "Will the light burn all night in this storm?", "I have brought you some soup."],
    "reply": ["The light will burn, whatever the weather", "Come up and have a cup of tea", "I saw it all from the top of the tower", "Then we shall wait and see", "Thank you, that is very kind", "The sea will do as it likes"],
    "gift": ["a loaf of bread", "a jar of honey", "a basket of apples", "a letter from the mainland", "a pot of soup", "a bundle of newspapers", "some fresh fish wrapped in paper"],
    "after_visit": ["They talked for a while about the weather and the boats.", "They stood at the window and watched the sea.", "They drank their tea in silence, and it was a good silence.", "They spoke about the old days, when the light still burned whale oil."],
    # --- evening
    "sunset": ["the sun went down behind the hill", "the sky turned red over the bay", "the light began to fade", "the first star appeared"],
    "beam": ["sweeping across the dark water", "reaching far out over the waves", "turning slowly through the night", "touching the roofs of the village one by one"],
    "far": ["a ship moved slowly along the horizon", "the lights of a fishing boat bobbed on the swell", "a steamer passed on its way to the city", "nothing moved on the empty sea"],
    "supper": ["bread and cheese", "a bowl of fish soup", "potatoes and a little butter", "an apple and some bread"],
    "night_sound": ["the wind in the chimney", "the waves on the rocks", "the foghorn far away", "the slow ticking of the clock", "the rain on the roof"],
    "thought": ["her father, who had kept the light before her", "the ships out on the dark sea", "the long winter ahead", "the spring that would come again", "all the sailors who had come home safely because of the light"],
}

PARAGRAPHS = {
    "opening": [
        "{time}, {weather}.",
        "{Season} had come to the village, and {season_sign}.",
        "From the top of the tower, {keeper} could see that {sea}.",
        "In the village the {smell} hung over the {street}.",
        "The gulls {gulls} above the harbour, and the boats {boats}.",
        "It was {season} on the island, and {season_sign}.",
    ],
    "work": [
        "{keeper} climbed the {steps} steps of the tower, as she did every morning.",
        "She polished the great lens until {lens}.",
        'In the logbook she wrote: "Wind {direction}, sea {sea_state}, {visibility}."',
        "Then she {chore}, and after that she {chore_out}.",
        "Her cat, {cat_name}, {cat}.",
        "It was slow work, but she liked it, and she did it well.",
    ],
    "village": [
        "Down in the village, {visitor_full} was {visitor_work}.",
        "At noon {visitor} walked up the path to the lighthouse with {gift}.",
        '"{greeting}, {keeper}," said {visitor}. "{remark}"',
        '"{reply}," said {keeper}.',
        "{after_visit}",
        "When {vpro} left, {keeper} waved from the door until {vpro} was only a small dark shape on the path.",
    ],
    "evening": [
        "When {sunset}, {keeper} lit the lamp.",
        "The beam went out over the bay, {beam}.",
        "Far out, {far}.",
        "She ate {supper} and listened to {night_sound}.",
        "Before she slept, she thought about {thought}.",
    ],
}


def chunks_until(target_chars: int, seed: int, chunk) -> str:
    """`chunk(rng, number)` for number 1, 2, … until the pieces hold `target_chars` characters, joined."""
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    number = 0
    while size < target_chars:
        number += 1
        piece = chunk(rng, number)
        out.append(piece)
        size += len(piece)
    return "".join(out).rstrip("\n") + "\n"


def make_prose(target_chars: int = 170_000, seed: int = 1) -> str:
    return chunks_until(target_chars, seed, prose_chapter)


def prose_chapter(rng: random.Random, chapter: int) -> str:
    season = SEASONS[((chapter - 1) // 3) % 4]  # three chapters per season, then the next
    full, short, pro, poss, work = rng.choice(VILLAGERS)
    ctx = {
        "season": season,
        "Season": season.capitalize(),
        "keeper": "Maren",
        "visitor_full": full,
        "visitor": short,
        "vpro": pro,
        "vposs": poss,
        "visitor_work": work,
    }
    title = expand("{title}", PROSE_RULES, ctx, rng)
    parts = [f"Chapter {chapter}: {title}"]
    for kind, templates in PARAGRAPHS.items():
        if kind == "village":
            chosen = templates  # keep the visit in story order
        else:
            k = rng.randint(3, min(5, len(templates)))
            chosen = [templates[0]] + sorted(rng.sample(templates[1:], k - 1), key=templates.index)
        sentences = [cap(expand(t, PROSE_RULES, ctx, rng)) for t in chosen]
        if kind == "village":  # the dialogue is its own paragraph
            parts.append(" ".join(sentences[:2]))
            parts += sentences[2:4]  # a new paragraph for each speaker
            parts.append(" ".join(sentences[4:]))
        else:
            parts.append(" ".join(sentences))
    return "\n\n".join(parts) + "\n\n\n"


# ---------------------------------------------------------------------------------------------
# 2. Python-like source code
# ---------------------------------------------------------------------------------------------

VERBS = ["load", "parse", "count", "find", "merge", "build", "clean", "split", "scale", "check", "update", "render", "sort", "group", "read", "write", "compute", "filter", "make", "apply"]
NOUNS = ["items", "rows", "words", "lines", "points", "names", "values", "scores", "tokens", "nodes", "records", "events", "boxes", "paths", "colors", "weights"]
VARS = ["count", "total", "result", "value", "index", "name", "size", "data", "node", "key", "parts", "line", "text", "offset", "limit", "step", "best", "left", "right", "width", "height", "item", "seen", "buffer"]
CLASS_WORDS = ["Counter", "Buffer", "Parser", "Grid", "Cache", "Queue", "Table", "Tree", "Reader", "Writer", "Point", "Matrix", "Store", "Timer", "Graph", "Window"]
CLASS_PREFIX = ["Simple", "Fast", "Small", "Word", "Line", "Text", "Sparse", "Ring", "Lazy", "Char"]
IMPORTS = [
    "import math", "import os", "import re", "import random", "import json", "import sys",
    "from collections import Counter, defaultdict", "from dataclasses import dataclass",
    "from typing import Iterable, Optional", "from pathlib import Path", "import itertools",
]
COMMENTS = [
    "check the edge case first", "keep the running total", "skip empty entries", "this is the slow path",
    "stop early if nothing is left", "remember what we have seen", "sort by the second field",
    "TODO: handle negative values", "the list may be empty here", "round to two places",
    "swap the two halves", "fall back to the default", "make a copy so we do not change the input",
    "count each word once", "note: index starts at zero",
]
DOCS = [
    "Return the {noun} that match.", "Count how many {noun} there are.", "Build a list of {noun}.",
    "Split the {noun} into two groups.", "Clean up the {noun} and return them.", "Find the largest of the {noun}.",
    "Merge two lists of {noun}.", "Read {noun} from a file.", "Sort the {noun} by size.",
]
STRINGS = ["", "name", "total", "error", "ok", "done", " ", ",", "\\n", "id", "value", "missing"]
METHODS = ["append", "get", "pop", "items", "keys", "split", "strip", "lower", "join", "extend", "count", "index"]
BUILTINS = ["len", "sum", "max", "min", "abs", "sorted", "list", "str", "int", "range", "round", "enumerate", "zip", "set"]


class CodeGen:
    """Random statements and expressions that always parse; names are drawn from what is in scope."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.funcs: list[str] = []

    def name(self, scope: list[str]) -> str:
        return self.rng.choice(scope)

    def atom(self, scope: list[str]) -> str:
        r = self.rng.random()
        if r < 0.55:
            return self.name(scope)
        if r < 0.8:
            return str(self.rng.choice([0, 1, 2, 3, 4, 8, 10, 16, 32, 100]))
        if r < 0.9:
            return repr(self.rng.choice(STRINGS)).replace("\\\\", "\\")
        return self.rng.choice(["None", "True", "False"])

    def expr(self, scope: list[str], depth: int = 0) -> str:
        rng = self.rng
        if depth >= 3 or rng.random() < 0.3:
            return self.atom(scope)
        d = depth + 1
        kind = rng.randrange(10)
        if kind == 0:
            return f"{self.expr(scope, d)} {rng.choice(['+', '-', '*', '//', '%'])} {self.expr(scope, d)}"
        if kind == 1:
            return f"({self.expr(scope, d)} {rng.choice(['+', '-', '*'])} {self.expr(scope, d)})"
        if kind == 2:
            args = ", ".join(self.expr(scope, d) for _ in range(rng.randint(1, 2)))
            return f"{rng.choice(BUILTINS)}({args})"
        if kind == 3:
            return f"{self.name(scope)}[{self.expr(scope, d)}]"
        if kind == 4:
            return "[" + ", ".join(self.expr(scope, d) for _ in range(rng.randint(0, 3))) + "]"
        if kind == 5:
            pairs = ", ".join(f"{repr(rng.choice(STRINGS[1:]))}: {self.expr(scope, d)}" for _ in range(rng.randint(1, 2)))
            return "{" + pairs + "}"
        if kind == 6:
            return f"{self.name(scope)}.{rng.choice(METHODS)}({self.expr(scope, d) if rng.random() < 0.6 else ''})"
        if kind == 7 and self.funcs:
            args = ", ".join(self.expr(scope, d) for _ in range(rng.randint(1, 3)))
            return f"{rng.choice(self.funcs)}({args})"
        if kind == 8:
            v = rng.choice(["x", "y", "n", "w"])
            return f"[{v} * {rng.randint(2, 9)} for {v} in {self.name(scope)} if {v} > {rng.randint(0, 9)}]"
        return f"({self.expr(scope, d)} if {self.cond(scope, d)} else {self.expr(scope, d)})"

    def cond(self, scope: list[str], depth: int = 0) -> str:
        rng = self.rng
        r = rng.randrange(6)
        if r == 0:
            return f"{self.name(scope)} is None"
        if r == 1:
            return f"not {self.name(scope)}"
        if r == 2:
            return f"{self.name(scope)} in {self.name(scope)}"
        if r == 3:
            return f"len({self.name(scope)}) > {rng.randint(0, 10)}"
        op = rng.choice(["<", ">", "<=", ">=", "==", "!="])
        return f"{self.expr(scope, depth + 1)} {op} {self.expr(scope, depth + 2)}"

    def block(self, scope: list[str], indent: int, depth: int, n: int) -> list[str]:
        lines: list[str] = []
        for _ in range(n):
            for _try in range(8):  # keep lines readable: redraw a statement whose first line is long
                trial = list(scope)
                stmt = self.stmt(trial, indent, depth)
                if len(stmt[0]) <= 96:
                    break
            scope[:] = trial  # names the kept statement assigned are in scope from here on
            lines += stmt
        if all(ln.lstrip().startswith("#") for ln in lines):  # a block of only comments is not Python
            lines.append("    " * indent + "pass")
        return lines

    def stmt(self, scope: list[str], indent: int, depth: int) -> list[str]:
        rng = self.rng
        pad = "    " * indent
        r = rng.random()
        if depth >= 3:
            r = rng.random() * 0.5  # only simple statements this deep
        if r < 0.3:
            var = rng.choice(VARS)
            line = f"{pad}{var} = {self.expr(scope)}"
            if var not in scope:
                scope.append(var)
            return [line]
        if r < 0.38:
            return [f"{pad}{self.name(scope)} {rng.choice(['+=', '-=', '*='])} {self.expr(scope, 1)}"]
        if r < 0.44:
            return [f"{pad}# {rng.choice(COMMENTS)}"]
        if r < 0.5:
            return [f"{pad}{self.name(scope)}.{rng.choice(['append', 'extend', 'update', 'add', 'sort'])}({self.expr(scope, 1)})"]
        if r < 0.65:
            out = [f"{pad}if {self.cond(scope)}:"] + self.block(scope, indent + 1, depth + 1, rng.randint(1, 3))
            if rng.random() < 0.3:
                out += [f"{pad}elif {self.cond(scope)}:"] + self.block(scope, indent + 1, depth + 1, rng.randint(1, 2))
            if rng.random() < 0.4:
                out += [f"{pad}else:"] + self.block(scope, indent + 1, depth + 1, rng.randint(1, 2))
            return out
        if r < 0.78:
            loop_var = rng.choice(["item", "x", "line", "node", "word", "row"])
            inner = scope + [loop_var]
            if rng.random() < 0.5:
                head = f"{pad}for {loop_var} in {self.name(scope)}:"
            else:
                head = f"{pad}for i, {loop_var} in enumerate({self.name(scope)}):"
                inner.append("i")
            body = self.block(inner, indent + 1, depth + 1, rng.randint(1, 3))
            if rng.random() < 0.2:
                body.append(f"{pad}    {rng.choice(['break', 'continue'])}")
            return [head] + body
        if r < 0.84:
            v = self.name(scope)
            return [f"{pad}while {v} > {rng.randint(0, 3)}:"] + self.block(scope, indent + 1, depth + 1, rng.randint(1, 2)) + [f"{pad}    {v} -= 1"]
        if r < 0.9:
            exc = rng.choice(["ValueError", "KeyError", "IndexError", "TypeError"])
            return (
                [f"{pad}try:"] + self.block(scope, indent + 1, depth + 1, rng.randint(1, 2))
                + [f"{pad}except {exc}:"] + self.block(scope, indent + 1, depth + 1, 1)
            )
        if r < 0.95:
            return [f"{pad}print({repr(rng.choice(STRINGS[1:]))}, {self.expr(scope, 1)})"]
        return [f"{pad}assert {self.cond(scope)}, {repr(rng.choice(['bad input', 'empty', 'too big', 'not found']))}"]

    def function(self, indent: int = 0, method: bool = False) -> list[str]:
        rng = self.rng
        pad = "    " * indent
        noun = rng.choice(NOUNS)
        fname = f"{rng.choice(VERBS)}_{noun}"
        params = rng.sample(VARS, rng.randint(1, 3))
        if rng.random() < 0.3:
            params[-1] += f"={rng.choice(['None', '0', '10', 'True', repr('')])}"
        sig_params = (["self"] if method else []) + params
        scope = [p.split("=")[0] for p in params] + ([] if not method else ["self"])
        lines = [f"{pad}def {fname}({', '.join(sig_params)}):"]
        if rng.random() < 0.7:
            lines.append(f'{pad}    """{rng.choice(DOCS).format(noun=noun)}"""')
        lines += self.block(scope, indent + 1, 1, rng.randint(2, 5))
        lines.append(f"{pad}    return {self.expr(scope, 1)}")
        if not method:
            self.funcs.append(fname)
            self.funcs = self.funcs[-12:]
        return lines

    def klass(self) -> list[str]:
        rng = self.rng
        cname = rng.choice(CLASS_PREFIX) + rng.choice(CLASS_WORDS)
        fields = rng.sample(VARS, rng.randint(1, 3))
        lines = [f"class {cname}:", f'    """A {cname[0].lower() + cname[1:]} of {rng.choice(NOUNS)}."""', ""]
        lines.append(f"    def __init__(self, {', '.join(fields)}):")
        lines += [f"        self.{f} = {f}" for f in fields]
        for _ in range(rng.randint(1, 3)):
            lines.append("")
            lines += self.function(indent=1, method=True)
        return lines

    def module(self, number: int) -> str:
        rng = self.rng
        lines = [f"# module {number}: {rng.choice(VERBS)} and {rng.choice(VERBS)} the {rng.choice(NOUNS)}"]
        lines += sorted(rng.sample(IMPORTS, rng.randint(1, 3)))
        for i in range(rng.randint(0, 2)):
            if i == 0:
                lines.append("")
            lines.append(f"{rng.choice(['MAX', 'MIN', 'DEFAULT', 'BATCH', 'LIMIT'])}_{rng.choice(NOUNS).upper()} = {rng.choice([0, 1, 8, 16, 64, 100, 1000])}")
        self.funcs = []
        for _ in range(rng.randint(2, 4)):
            lines += ["", ""]
            lines += self.klass() if rng.random() < 0.3 else self.function()
        return "\n".join(lines) + "\n"


def make_code(target_chars: int = 170_000, seed: int = 2) -> str:
    gen = CodeGen(random.Random(seed))
    out: list[str] = []
    size = 0
    n = 0
    while size < target_chars:
        n += 1
        src = gen.module(n)
        ast.parse(src)  # every module must be valid Python
        chunk = src + "\n\n"
        out.append(chunk)
        size += len(chunk)
    return "".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------------
# 3. A rhyming song: numbered verses, AABB, with a chorus
# ---------------------------------------------------------------------------------------------

# Rhyme groups: each line is about eight syllables and ends on a word of its group.
RHYMES: list[list[str]] = [
    ["The little goat went up the hill,", "And there she stood so very still.", "The kettle whistled loud and shrill,", "The mouse had eaten all his fill,", "The miller sang beside his mill,", "The robin sat upon the sill."],
    ["The farmer walked along the way,", "To cut the grass and make the hay.", "The lambs came out to jump and play,", "And stayed out in the fields all day.", "The sky was soft and warm and grey,", "The donkey had a lot to say."],
    ["The owl woke up into the night,", "And flew across the moon so bright.", "The baker held a candle light,", "The snow lay on the roofs so white.", "The children flew a yellow kite,", "And held the string with all their might."],
    ["The boat went sailing out to sea,", "Beneath the sky so wide and free.", "The bee was buzzing round the tree,", "The cat was sleeping on my knee.", "The kettle sang a song for tea,", "And one and two and then came three."],
    ["The cow looked up to see the moon,", "The owl said, I'll be sleeping soon.", "The blackbird sang a happy tune,", "Upon a warm and sunny noon.", "The baby banged a silver spoon,", "The daisies opened up in June."],
    ["The wagon rolled along the lane,", "And splashed the puddles from the rain.", "The duck went down to swim again,", "Across the pond and back again.", "The farmer counted all his grain,", "The station waited for the train."],
    ["The fox came knocking at the door,", "The cat found cheese upon the floor.", "The waves came rolling to the shore,", "And then they rolled away once more.", "The dog lay down and gave a snore,", "The shelf was full in every store."],
    ["The kitten had a ball of wool,", "The puppy gave a mighty pull.", "The moon was round and bright and full,", "The farmer led the great big bull,"],
    ["The hen was sitting on her nest,", "Beside the barn she liked the best.", "The sun went down into the west,", "And all the birds flew home to rest.", "The bear put on his Sunday vest,", "The little ones were fed and dressed."],
    ["The pig went walking in the sun,", "The pony said, I want to run.", "The baker baked a currant bun,", "And gave the boy the biggest one.", "The day was long and we had fun,", "And now the work is nearly done."],
    ["The frog sat down upon a log,", "And looked out through the morning fog.", "The sheep came running with the dog,", "They splashed across the muddy bog.", "The puppy chased the farmer's hog,"],
    ["The stars came out above the bay,", "To light the sailors on their way.", "The mouse had found a bit of clay,", "The children went outside to play.", "The cockerel crowed to greet the day,", "The dog chased all the cats away."],
]
NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
CHORUS = [
    "Sing hey, sing ho, the wind will blow,",
    "And round and round the wheel will go.",
]


def make_rhyme(target_chars: int = 110_000, seed: int = 3) -> str:
    return chunks_until(target_chars, seed, rhyme_verse)


def rhyme_verse(rng: random.Random, verse: int) -> str:
    a, b = rng.sample(range(len(RHYMES)), 2)
    lines = rng.sample(RHYMES[a], 2) + rng.sample(RHYMES[b], 2)
    lines = [ln.rstrip(",.") + (",." [i % 2]) for i, ln in enumerate(lines)]  # comma, full stop, ...
    count = NUMBER_WORDS[(verse - 1) % 10]
    return (
        f"Verse {verse}\n"
        + "\n".join(lines)
        + "\n"
        + f"And {count} little bell{'s' if verse % 10 != 1 else ''} went ding and dong,\n"
        + "\n".join(CHORUS)
        + "\n\n"
    )


def make_tiny(target_chars: int = 6_000, seed: int = 4) -> str:
    """A small, very regular song for quick tests: a few batches of 32 x 64 characters."""
    rng = random.Random(seed)
    animals = ["cat", "dog", "hen", "cow", "pig", "fox", "owl", "duck"]
    places = ["in the hay", "by the sea", "on the hill", "at the gate"]
    out: list[str] = []
    size = 0
    while size < target_chars:
        animal = rng.choice(animals)
        place = rng.choice(places)
        chunk = f"The {animal} sat {place},\nthe {animal} sat {place},\nla la la, la la la,\nthe {animal} sat {place}.\n\n"
        out.append(chunk)
        size += len(chunk)
    return "".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------------
# 4. Long-range memory: copy a key after a long stretch of noise
# ---------------------------------------------------------------------------------------------

KEYS = "abcdefgh"
NOISE = "xyz"


def make_recall(min_lag: int, max_lag: int, target_chars: int, seed: int) -> str:
    """Lines "K:FILLER>K"; the lag (key to its copy) = len(FILLER) + 3 is uniform in min_lag..max_lag."""
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < target_chars:
        key = rng.choice(KEYS)
        n = rng.randint(min_lag - 3, max_lag - 3)
        line = f"{key}:{''.join(rng.choice(NOISE) for _ in range(n))}>{key}\n"
        out.append(line)
        size += len(line)
    return "".join(out)


_LINE = re.compile(r"^([a-h]):([xyz]*)>(.)$")


def make_long_range() -> str:
    return make_recall(10, 60, 150_000, seed=5)


def make_short_range() -> str:
    return make_recall(5, 15, 100_000, seed=6)


def long_range_accuracy(text: str, split_lag: int = 35) -> dict[str, float]:
    """Score generated text of the recall tasks: how often the character after '>' equals the key.

    Returns {"lines": n, "accuracy": fraction correct, "short": ..., "long": ...} where short/long
    split the well-formed lines at split_lag (lag = filler length + 3; 35 is the median of
    long_range.txt, use 10 for short_range.txt). Chance is 1/8.
    """
    right = {"short": [0, 0], "long": [0, 0]}
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        bucket = "short" if len(m.group(2)) + 3 <= split_lag else "long"
        right[bucket][1] += 1
        right[bucket][0] += m.group(1) == m.group(3)
    total = right["short"][1] + right["long"][1]
    frac = lambda p: p[0] / p[1] if p[1] else float("nan")  # noqa: E731
    return {
        "lines": float(total),
        "accuracy": (right["short"][0] + right["long"][0]) / total if total else float("nan"),
        "short": frac(right["short"]),
        "long": frac(right["long"]),
    }


# ---------------------------------------------------------------------------------------------
# Catalog and main
# ---------------------------------------------------------------------------------------------

CATALOG = [
    {"file": "prose.txt", "title": "Lighthouse prose", "teaches": "Spelling, words, punctuation and sentences of English prose.", "level": "char"},
    {"file": "code.txt", "title": "Python code", "teaches": "Indentation, keywords and matching brackets in source code.", "level": "char"},
    {"file": "rhyme.txt", "title": "Rhyming song", "teaches": "A very regular text whose repeated verse shape and chorus are learned fast, so the loss drops quickly.", "level": "char"},
    {"file": "short_range.txt", "title": "Short-range memory", "teaches": "Each line must end with the letter it started with, only 5 to 15 characters earlier: even a SimpleRNN learns this.", "level": "char"},
    {"file": "long_range.txt", "title": "Long-range memory", "teaches": "Each line must end with the letter it started with, 10 to 60 characters earlier: an LSTM learns this in a few minutes, a SimpleRNN does not.", "level": "char"},
    {"file": "tiny.txt", "title": "Tiny song (quick test)", "teaches": "A 6 kB toy song for checking that training runs at all within seconds.", "level": "char"},
]

GENERATORS = {
    "prose.txt": make_prose,
    "code.txt": make_code,
    "rhyme.txt": make_rhyme,
    "short_range.txt": make_short_range,
    "long_range.txt": make_long_range,
    "tiny.txt": make_tiny,
}


def build() -> dict[str, str]:
    files = {name: gen() for name, gen in GENERATORS.items()}
    for name, text in files.items():
        assert text.isascii(), name
    files["catalog.json"] = json.dumps(CATALOG, indent=2) + "\n"
    assert [c["file"] for c in CATALOG] == list(GENERATORS)
    return files


def main(argv: list[str]) -> int:
    files = build()
    if "--check" in argv:
        stale = [n for n, t in files.items() if not (HERE / n).exists() or (HERE / n).read_text(encoding="utf-8") != t]
        for n in stale:
            print(f"out of date: {n}")
        return 1 if stale else 0
    for name, text in files.items():
        (HERE / name).write_text(text, encoding="utf-8", newline="\n")
        print(f"{name:16s} {len(text.encode('utf-8')):>8,d} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
