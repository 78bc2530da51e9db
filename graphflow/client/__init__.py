"""``tensorflow.python.client`` equivalents: ``timeline`` (Chrome traces of RunMetadata)."""
