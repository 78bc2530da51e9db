"""CompileOptions: one switch per compiler pass, and where they come from.

The TF1 knobs are ``ConfigProto(graph_options=GraphOptions(optimizer_options=
OptimizerOptions(...)))``. As in TF's graph optimizer, ``opt_level=L1`` (the
default, 0) turns constant folding and common-subexpression elimination on,
and ``opt_level=L0`` (-1) leaves each to its own flag
(``do_constant_folding``, ``do_common_subexpression_elimination``); L0 also
turns graphflow's own passes off. graphflow-specific switches come from a
``CompileOptions`` stored in ``GraphOptions(compile_options=...)``, and last
from the environment variable ``GRAPHFLOW_PASSES``:

* ``off`` (or ``none``, ``0``): every pass off (the plan is the pruned graph
  in TF1's order, op by op);
* ``on`` / ``all`` / empty: the defaults;
* a comma list such as ``fold,cse`` (only those) or ``-fuse,-inplace``
  (the others stay as configured).
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Optional

PASS_NAMES = ("fold_constants", "cse", "dead_control", "simplify", "matmul_update", "fuse",
              "inplace", "accumulate_pads", "segments")
_SHORT = {"fold": "fold_constants", "constant_folding": "fold_constants",
          "fold_constants": "fold_constants", "cse": "cse", "simplify": "simplify",
          "fuse": "fuse", "fusion": "fuse", "inplace": "inplace", "memory": "inplace",
          "dead_control": "dead_control", "gates": "dead_control",
          "matmul_update": "matmul_update", "gemm": "matmul_update",
          "accumulate_pads": "accumulate_pads", "pads": "accumulate_pads",
          "segments": "segments", "jit": "segments"}
ENV = "GRAPHFLOW_PASSES"


@dataclasses.dataclass
class CompileOptions:
    """Which compiler passes run, and their limits.

    Attributes:
      fold_constants: evaluate constant subgraphs once at compile time.
      cse: merge stateless ops with equal type, inputs and attrs.
      dead_control: drop pure ops that cannot fail and whose outputs nobody
        reads, reached only through control edges (e.g. the unused gradient of a
        fed input that GATE_OP's ``tf.tuple`` waits for).
      simplify: remove identities and no-op arithmetic (x*1, x+0, ...).
      matmul_update: run ``ApplyGradientDescent`` of a ``MatMul``'s product as one
        GEMM accumulating into the variable (compiler/matmul_update.py).
      fuse: turn groups of elementwise ops into one generated kernel.
      inplace: let elementwise steps write into an input buffer dying with them.
      accumulate_pads: add zero-padded gradient terms (the ``Pad`` a slice's
        gradient makes) into their region of an ``AddN``/``AccumulateNV2``
        accumulator instead of materializing them (compiler/accumulate.py).
      segments: once a plan is reused, compile runs of small steps into one njit
        function each (compiler/segments.py; the sequential executor).
      segment_after_runs: the run of a plan that starts its segment compilation
        (2: the first reuse; 1: the first run).
      segments_background: compile segments on a background thread (the plan runs
        step by step meanwhile, slowed by the compiler sharing the GIL); False (the
        default): within the run that starts them.
      segment_min_steps: compile only when the segments would cover at least this
        many steps (below it the saving does not repay the compile time).
      segment_max_cost: size bound of one segment, in elementwise ops (a step
        counts 1, a fused group its ops, a Sum 4): compile time grows with it.
        Structurally equal segments share one compiled function.
      segment_max_kernels: most distinct segment functions compiled per plan (those
        covering the most steps; a bound on compile time), 0: no limit.
      fold_max_elements: largest folded constant (elements per output).
      fuse_max_ops: largest fusion group (structurally equal groups share a kernel).
      inplace_min_bytes: smallest output (static size) worth writing in place;
        below it a fresh allocation costs less than the run-time checks.
    """

    fold_constants: bool = True
    cse: bool = True
    dead_control: bool = True
    simplify: bool = True
    matmul_update: bool = True
    fuse: bool = True
    inplace: bool = True
    accumulate_pads: bool = True
    segments: bool = True
    segment_after_runs: int = 2
    segments_background: bool = False
    segment_min_steps: int = 64
    segment_max_cost: int = 48
    segment_max_kernels: int = 4
    fold_max_elements: int = 1 << 20
    fuse_max_ops: int = 24
    inplace_min_bytes: int = 1 << 16

    def enabled(self) -> tuple:
        """Names of the passes switched on."""
        return tuple(n for n in PASS_NAMES if getattr(self, n))

    def key(self) -> tuple:
        return dataclasses.astuple(self)

    @classmethod
    def all_off(cls) -> "CompileOptions":
        return cls(**{n: False for n in PASS_NAMES})

    @classmethod
    def from_config(cls, config: Any = None, env: Optional[str] = None) -> "CompileOptions":
        """Options for a session's ``ConfigProto`` (None: defaults), then ``GRAPHFLOW_PASSES``."""
        graph_opts = getattr(config, "graph_options", None)
        given = getattr(graph_opts, "compile_options", None)
        opts = dataclasses.replace(given) if isinstance(given, CompileOptions) else cls()
        oo = getattr(graph_opts, "optimizer_options", None)
        if oo is not None:
            level = getattr(oo, "opt_level", 0) or 0
            if level < 0:  # L0: no optimizations beyond the flags set explicitly
                opts.fold_constants = bool(getattr(oo, "do_constant_folding", False))
                opts.cse = bool(getattr(oo, "do_common_subexpression_elimination", False))
                opts.dead_control = opts.simplify = opts.fuse = opts.inplace = False
                opts.matmul_update = False
                opts.accumulate_pads = opts.segments = False
        return apply_env(opts, os.environ.get(ENV) if env is None else env)


def apply_env(opts: CompileOptions, spec: Optional[str]) -> CompileOptions:
    """``opts`` changed by a ``GRAPHFLOW_PASSES`` value (see the module docstring)."""
    if spec is None:
        return opts
    spec = spec.strip().lower()
    if spec in ("", "on", "all", "1", "default"):
        return opts
    if spec in ("off", "none", "0"):
        return dataclasses.replace(opts, **{n: False for n in PASS_NAMES})
    items = [s.strip() for s in spec.split(",") if s.strip()]
    only = [s for s in items if not s.startswith("-")]
    out = dataclasses.replace(opts, **({n: False for n in PASS_NAMES} if only else {}))
    for s in items:
        name = _SHORT.get(s.lstrip("+-"))
        if name is None:
            raise ValueError("%s: unknown pass %r (known: %s)" % (ENV, s, ", ".join(PASS_NAMES)))
        setattr(out, name, not s.startswith("-"))
    return out
