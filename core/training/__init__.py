"""Runs inside a worker process: the training loop and its progress. Knows nothing of Ray or the store."""
