"""The run store (SQLite + .keras checkpoints), the recorder that writes it, and reopening runs."""
