"""The ``tf.contrib.layers`` namespace of graphflow: the optimizer helpers only."""
from graphflow.contrib.layers.optimizers import (OPTIMIZER_CLS_NAMES, OPTIMIZER_SUMMARIES,
                                                 adaptive_clipping_fn, optimize_loss)

__all__ = ["optimize_loss", "adaptive_clipping_fn", "OPTIMIZER_CLS_NAMES",
           "OPTIMIZER_SUMMARIES"]
