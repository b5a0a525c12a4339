"""RNN Playground's engine: text, vocabulary, batches, models, trainer, inspection and figures.

Pure Python + TensorFlow/Keras + numpy/pandas/plotly; never imports streamlit.
"""
