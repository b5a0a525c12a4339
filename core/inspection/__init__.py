"""Looking inside a network from a weight snapshot: hidden states, gradients, neurons, connectivity."""
