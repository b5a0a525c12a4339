"""Text: loading and decoding, vocabularies, samples, batches."""
