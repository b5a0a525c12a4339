"""A run exported as code: a standalone Keras script and notebook that train it again, with its data and weights."""
