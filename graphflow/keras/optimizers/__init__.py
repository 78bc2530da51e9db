"""The ``tf.keras.optimizers`` namespace: OptimizerV2 and its subclasses, ``schedules``,
``legacy`` (the same classes) and ``get`` / ``serialize`` / ``deserialize``.
Re-exports only, except the three lookup helpers."""
from __future__ import annotations

from typing import Any, Optional

from graphflow.keras.optimizers import schedules
from graphflow.keras.optimizers.adagrad import Adadelta, Adagrad
from graphflow.keras.optimizers.adam import Adam, Adamax
from graphflow.keras.optimizers.ftrl import Ftrl
from graphflow.keras.optimizers.gradient_descent import SGD
from graphflow.keras.optimizers.nadam import Nadam
from graphflow.keras.optimizers.optimizer_v2 import (OptimizerV2, VariableAggregation,
                                                     VariableSynchronization)
from graphflow.keras.optimizers.rmsprop import RMSProp, RMSprop

Optimizer = OptimizerV2

_BY_NAME = {"sgd": SGD, "adam": Adam, "adamax": Adamax, "nadam": Nadam, "adagrad": Adagrad,
            "adadelta": Adadelta, "rmsprop": RMSprop, "ftrl": Ftrl}


def serialize(optimizer: OptimizerV2) -> dict:
    """``{'class_name': <class name>, 'config': optimizer.get_config()}``."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict, custom_objects: Optional[dict] = None) -> OptimizerV2:
    """Inverse of ``serialize``; class names are matched case-insensitively."""
    classes = {k: v for k, v in _BY_NAME.items()}
    classes.update({k.lower(): v for k, v in (custom_objects or {}).items()})
    name = str(config.get("class_name", "")).lower()
    if name not in classes:
        raise ValueError("Unknown optimizer: %s" % config.get("class_name"))
    return classes[name].from_config(dict(config.get("config", {})),
                                     custom_objects=custom_objects)


def get(identifier: Any) -> OptimizerV2:
    """An optimizer from an instance, a name (``'adam'``) or a serialized dict."""
    if isinstance(identifier, OptimizerV2):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise ValueError("Could not interpret optimizer identifier: {}".format(identifier))


from graphflow.keras.optimizers import legacy  # noqa: E402  (needs the classes above)

__all__ = ["Optimizer", "OptimizerV2", "SGD", "Adam", "Adamax", "Nadam", "Adagrad", "Adadelta",
           "RMSprop", "RMSProp", "Ftrl", "schedules", "legacy", "get", "serialize",
           "deserialize", "VariableSynchronization", "VariableAggregation"]
