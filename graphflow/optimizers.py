"""``tf.optimizers``: alias of ``tf.keras.optimizers`` (re-exports only)."""
from graphflow.keras.optimizers import *  # noqa: F401,F403
from graphflow.keras.optimizers import __all__  # noqa: F401
