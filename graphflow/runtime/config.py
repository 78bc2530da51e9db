"""Session configuration messages: ConfigProto, RunOptions, RunMetadata, ...

Plain attribute bags with TF's field names and defaults; unknown fields are
TypeErrors so typos do not pass silently.
"""
from __future__ import annotations

from typing import Any


class _Message:
    _fields: dict = {}

    def __init__(self, **kwargs: Any) -> None:
        for k, v in self._fields.items():
            setattr(self, k, v() if callable(v) else v)
        for k, v in kwargs.items():
            if k not in self._fields:
                raise TypeError("%s got an unexpected keyword argument '%s'"
                                % (type(self).__name__, k))
            setattr(self, k, v)

    def __repr__(self) -> str:
        return "%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%r" % (k, getattr(self, k)) for k in self._fields))


class OptimizerOptions(_Message):
    L1 = 0
    L0 = -1
    DEFAULT = 0
    OFF = -1
    ON_1 = 1
    # TF's proto defaults (False): opt_level L1 (0, the default) turns both on anyway
    _fields = {"do_common_subexpression_elimination": False, "do_constant_folding": False,
               "do_function_inlining": True, "opt_level": 0, "global_jit_level": 0}


class GraphOptions(_Message):
    _fields = {"optimizer_options": OptimizerOptions, "enable_recv_scheduling": False,
               "build_cost_model": 0, "infer_shapes": False, "place_pruned_graph": False,
               "compile_options": None}  # graphflow: a compiler.options.CompileOptions


class GPUOptions(_Message):
    _fields = {"allow_growth": False, "per_process_gpu_memory_fraction": 0.0,
               "visible_device_list": ""}


class ThreadPoolOptionProto(_Message):
    """One inter-op pool of ``ConfigProto.session_inter_op_thread_pool``."""
    _fields = {"num_threads": 0, "global_name": ""}


class ConfigProto(_Message):
    """``inter_op_parallelism_threads``: 0 or 1 runs a session's steps in the
    calling thread, N > 1 on N threads (runtime/parallel.py). ``schedule``
    (graphflow's own field) is the session's default schedule policy:
    ``"default"``, ``"asap"``, ``"alap"``, ``"random:SEED"`` or a
    ``SchedulePolicy`` (runtime/policies.py)."""
    _fields = {"inter_op_parallelism_threads": 0, "intra_op_parallelism_threads": 0,
               "session_inter_op_thread_pool": list,
               "use_per_session_threads": False, "allow_soft_placement": False,
               "log_device_placement": False, "graph_options": GraphOptions,
               "gpu_options": GPUOptions, "device_count": dict,
               "operation_timeout_in_ms": 0, "isolate_session_state": False,
               "schedule": "default"}


class RunOptions(_Message):
    """TF's run options; ``schedule`` (graphflow's own field) overrides the
    session's schedule policy for one run (see ``ConfigProto``)."""
    NO_TRACE = 0
    SOFTWARE_TRACE = 1
    HARDWARE_TRACE = 2
    FULL_TRACE = 3
    _fields = {"trace_level": 0, "timeout_in_ms": 0, "inter_op_thread_pool": 0,
               "output_partition_graphs": False, "report_tensor_allocations_upon_oom": False,
               "schedule": None}


class RunMetadata(_Message):
    _fields = {"step_stats": None, "cost_graph": None, "partition_graphs": list}
