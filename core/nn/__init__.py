"""The network: TensorFlow, the Keras model, the fused SimpleRNN, train steps, generation, estimates."""
