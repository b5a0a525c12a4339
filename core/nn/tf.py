"""The one place TensorFlow and Keras are imported, quietly and with the TensorFlow backend.

Importing this module takes 4 to 6 s; pages import it lazily so Home shows at once.

Every graph here is compiled with `graph` (`tf.function` without AutoGraph): none needs AutoGraph (loops are `tf.scan` and `tf.while_loop`, and the
Python branches test Python values), and a process's first AutoGraph conversion cost 2.3 s of CPU: a training worker's
warm-up took 3.3 to 4.0 s with it and 1.2 to 1.4 s without, the same loss to the last digit (`bench/autograph.py`).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import functools  # noqa: E402

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

graph = functools.partial(tf.function, autograph=False)  # `@graph(...)` or `graph(fn, ...)`, as tf.function

__all__ = ["graph", "keras", "tf"]
