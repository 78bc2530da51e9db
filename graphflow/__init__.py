"""graphflow: a graph-compiling, deferred-execution engine with TF 1.x's API.

``import graphflow as tf`` and write TensorFlow-1.x-style programs. This
module only re-exports; every name lives in the module that defines it.
"""
from graphflow import dtypes, errors
from graphflow.dtypes import *  # noqa: F401,F403
from graphflow.framework.graph import (Graph, GraphKeys, add_to_collection, add_to_collections,
                                       colocate_with, control_dependencies, device,
                                       get_collection, get_collection_ref, get_default_graph,
                                       get_name_scope, get_seed, name_scope, op_scope,
                                       reset_default_graph, set_random_seed)
from graphflow.framework.op_def import NotDifferentiable, NoGradient, RegisterGradient
from graphflow.framework.operation import (Operation, Tensor, convert_to_tensor, is_tensor,
                                           register_tensor_conversion_function)
from graphflow.framework.tensor_shape import Dimension, TensorShape
from graphflow.ops import (array_ops, clip_ops, control_flow_ops, data_flow_ops, init_ops,
                           linalg_ops,
                           math_ops, nn_ops, random_ops, reduction_ops, state_ops, variables)
from graphflow.ops import variable_scope as _variable_scope_module
from graphflow.ops.array_ops import *  # noqa: F401,F403
from graphflow.ops.clip_ops import *  # noqa: F401,F403
from graphflow.ops.control_flow_ops import *  # noqa: F401,F403
from graphflow.ops.data_flow_ops import *  # noqa: F401,F403
from graphflow.ops.init_ops import *  # noqa: F401,F403
from graphflow.ops.linalg_ops import *  # noqa: F401,F403
from graphflow.ops.math_ops import *  # noqa: F401,F403
from graphflow.ops.reduction_ops import *  # noqa: F401,F403
from graphflow.ops.nn_ops import *  # noqa: F401,F403
from graphflow.ops.random_ops import *  # noqa: F401,F403
from graphflow.ops.state_ops import *  # noqa: F401,F403
from graphflow.ops.variable_scope import *  # noqa: F401,F403
from graphflow.ops.variables import *  # noqa: F401,F403
from graphflow import autodiff
from graphflow.autodiff import *  # noqa: F401,F403
from graphflow import initializers, losses, math, nn, random, test, train  # noqa: F401
from graphflow import io, summary  # noqa: F401  (tf.io, tf.summary)
from graphflow import contrib, keras, optimizers  # noqa: F401  (tf.contrib, tf.keras)
from graphflow.keras.optimizers.optimizer_utils import (VariableAggregation,
                                                        VariableSynchronization)
from graphflow.io import (AttrValue, Event, GraphDef, HistogramProto, NodeDef, SessionLog,
                          Summary, import_graph_def, make_ndarray, make_tensor_proto)
python_io = io  # TF1's tf.python_io (tf_record_iterator, TFRecordWriter)
from graphflow.runtime.config import (ConfigProto, GPUOptions, GraphOptions, OptimizerOptions,
                                      RunMetadata, RunOptions, ThreadPoolOptionProto)
from graphflow.runtime.session import InteractiveSession, Session, get_default_session

DType = dtypes.DType
as_dtype = dtypes.as_dtype
__version__ = "0.1.0"

__all__ = (
    ["Graph", "GraphKeys", "add_to_collection", "add_to_collections", "colocate_with",
     "control_dependencies", "device", "get_collection", "get_collection_ref",
     "get_default_graph", "get_name_scope", "get_seed", "name_scope", "op_scope",
     "reset_default_graph", "set_random_seed", "NotDifferentiable", "NoGradient",
     "RegisterGradient", "Operation", "Tensor", "convert_to_tensor", "is_tensor",
     "register_tensor_conversion_function", "Dimension", "TensorShape", "ConfigProto",
     "GPUOptions", "GraphOptions", "OptimizerOptions", "RunMetadata", "RunOptions",
     "ThreadPoolOptionProto",
     "InteractiveSession", "Session", "get_default_session", "DType", "as_dtype", "dtypes",
     "errors", "initializers", "losses", "math", "nn", "random", "test", "train", "io",
     "python_io", "summary", "contrib", "keras", "optimizers", "VariableAggregation",
     "VariableSynchronization", "AttrValue", "Event", "GraphDef", "HistogramProto", "NodeDef",
     "SessionLog", "Summary", "import_graph_def", "make_ndarray", "make_tensor_proto"]
    + dtypes.__all__ + array_ops.__all__ + clip_ops.__all__ + control_flow_ops.__all__ + data_flow_ops.__all__
    + init_ops.__all__ + linalg_ops.__all__ + math_ops.__all__ + reduction_ops.__all__ + nn_ops.__all__ + random_ops.__all__
    + state_ops.__all__ + _variable_scope_module.__all__ + variables.__all__ + autodiff.__all__)

from graphflow.framework import startup as _startup  # noqa: E402
_startup.maybe_start_at_import()  # GRAPHFLOW_BACKGROUND_INIT=1: Numba's target init in a thread
