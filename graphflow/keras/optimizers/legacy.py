"""``tf.keras.optimizers.legacy``: the same OptimizerV2 classes (re-exports only)."""
from graphflow.keras.optimizers.adagrad import Adadelta, Adagrad
from graphflow.keras.optimizers.adam import Adam, Adamax
from graphflow.keras.optimizers.ftrl import Ftrl
from graphflow.keras.optimizers.gradient_descent import SGD
from graphflow.keras.optimizers.nadam import Nadam
from graphflow.keras.optimizers.optimizer_v2 import OptimizerV2
from graphflow.keras.optimizers.rmsprop import RMSprop

Optimizer = OptimizerV2

__all__ = ["Optimizer", "SGD", "Adam", "Adamax", "Nadam", "Adagrad", "Adadelta", "RMSprop",
           "Ftrl"]
