"""The one place TensorFlow and Keras are imported, quietly and with the TensorFlow backend.

Importing this module takes 4 to 6 s; pages import it lazily so Home shows at once.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

__all__ = ["keras", "tf"]
