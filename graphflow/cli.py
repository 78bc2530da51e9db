"""The ``graphflow`` command line: ``graphflow demo``, ``graphflow study``, ``graphflow inspect``.

Each subcommand is one ``Command`` entry in ``COMMANDS``: a name, a one-line
help, a description for ``--help``, a function adding its arguments to an
argparse sub-parser and a function running it. ``main`` returns the process
exit code: 0 on success, 2 for bad arguments (argparse's convention; a command
raises :class:`UsageError` for arguments it can only check after parsing), 1
when the command itself fails (:class:`CommandError` for expected failures
such as an unreadable file; set ``GRAPHFLOW_DEBUG=1`` to see tracebacks).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from typing import Any, Callable, NamedTuple, Optional, Sequence


class Command(NamedTuple):
    """One subcommand: ``graphflow NAME ...``."""

    name: str
    help: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A bad argument found after parsing: exit code 2, like argparse's own errors."""


class CommandError(Exception):
    """An expected failure (unreadable file, ...): exit code 1, message only."""


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a positive integer, got %r" % text) from None
    if v <= 0:
        raise argparse.ArgumentTypeError("expected a positive integer, got %d" % v)
    return v


def _non_negative_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an integer >= 0, got %r" % text) from None
    if v < 0:
        raise argparse.ArgumentTypeError("expected an integer >= 0, got %d" % v)
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a positive number, got %r" % text) from None
    if not v > 0.0 or v == float("inf"):
        raise argparse.ArgumentTypeError("expected a positive number, got %r" % text)
    return v


# --- demo ------------------------------------------------------------------------------
DEMO_DESCRIPTION = """\
Train a small classifier, TensorFlow 1.x style, and write what TensorBoard reads.

The data: 600 points of three interleaved spirals in the plane (or, with
--dataset blobs, three Gaussian blobs), generated from --seed: nothing is
downloaded; 450 train, 150 held out. The model: a 2-32-32-3
MLP (placeholders, tf.get_variable, tf.matmul, tf.nn.relu),
tf.losses.sparse_softmax_cross_entropy, a tf.train optimizer (--optimizer) with
a global step. A progress bar shows the batch loss and accuracy.

Into --logdir it writes graph.pbtxt (tf.train.write_graph) and an event file
(tf.summary.FileWriter): the graph plus the scalars 'loss' and 'accuracy'
(training batch) and 'eval/loss', 'eval/accuracy' (held-out points), every
--log-every steps. It ends with the final numbers, the files and the command
that opens them: tensorboard --logdir DIR. The same --seed gives the same
numbers. --json prints one JSON object instead (progress still on stderr)."""


def _demo_args(p: argparse.ArgumentParser) -> None:
    from graphflow import datasets, demo

    p.add_argument("--logdir", metavar="DIR",
                   help="where to write graph.pbtxt and the event file (created if "
                        "missing; default: a new ./graphflow-demo-logs/run-N, or a "
                        "temporary directory when . is not writable)")
    p.add_argument("--steps", type=_positive_int, default=demo.DEFAULT_STEPS,
                   help="training steps (default: %d)" % demo.DEFAULT_STEPS)
    p.add_argument("--optimizer", choices=list(demo.OPTIMIZERS), default="adam",
                   help="the tf.train optimizer (default: adam); learning rates: "
                   + ", ".join("%s %g" % (k, v[1]) for k, v in demo.OPTIMIZERS.items()))
    p.add_argument("--learning-rate", type=_positive_float, metavar="LR",
                   help="override the optimizer's default learning rate")
    p.add_argument("--batch", type=_positive_int, default=demo.DEFAULT_BATCH,
                   help="examples per training step (default: %d)" % demo.DEFAULT_BATCH)
    p.add_argument("--seed", type=_non_negative_int, default=0,
                   help="seed of the data, the initial weights and the batch order "
                        "(default: 0)")
    p.add_argument("--dataset", choices=sorted(datasets.DATASETS), default="spirals",
                   help="the generated data set (default: spirals)")
    p.add_argument("--log-every", type=_positive_int, default=10, metavar="N",
                   help="write summaries every N steps (default: 10)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (settings, logged losses, final "
                        "accuracy, files written) instead of text")


def _demo_logdir(args: argparse.Namespace) -> tuple:
    from graphflow import demo

    if args.logdir is None:
        return demo.default_logdir()
    path = os.path.abspath(args.logdir)
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError("--logdir %s exists and is not a directory" % args.logdir)
    if not os.path.exists(path):
        return path, "created"
    old = [f for f in os.listdir(path) if f.startswith("events.out.tfevents.")]
    if old:
        return path, ("already held %d event file(s): TensorBoard shows them as one run"
                      % len(old))
    return path, "existing directory"


def _cmd_demo(args: argparse.Namespace) -> int:
    from graphflow import demo

    logdir, note = _demo_logdir(args)
    try:
        out = demo.train(logdir, steps=args.steps, optimizer=args.optimizer, batch=args.batch,
                         seed=args.seed, learning_rate=args.learning_rate,
                         dataset=args.dataset, log_every=args.log_every,
                         progress=not args.quiet)
    except OSError as e:
        raise CommandError("cannot write to %s: %s" % (logdir, e.strerror or e)) from None
    out["logdir_note"] = note
    if args.json:
        print(json.dumps(out))
        return 0
    _print_demo(out)
    return 0


def _print_demo(out: dict) -> None:
    f = out["final"]
    ex = out["examples"]
    print("graphflow demo: a %s MLP classifier on %r (%d train / %d held-out points, "
          "%d classes)" % ("-".join(map(str, out["layers"])), out["dataset"], ex["train"],
                           ex["eval"], out["classes"]))
    print("  optimizer  %s(learning_rate=%g), batch %d, seed %d"
          % (out["optimizer_class"], out["learning_rate"], out["batch"], out["seed"]))
    print("  trained    %d steps in %.1f s (global_step = %d, %d ops in the graph)"
          % (out["steps"], out["seconds"], out["global_step"], out["ops"]))
    print("  train      loss %.4f  accuracy %.3f" % (f["train_loss"], f["train_accuracy"]))
    print("  held out   loss %.4f  accuracy %.3f  (chance: %.3f)"
          % (f["eval_loss"], f["eval_accuracy"], out["chance"]))
    print()
    print("Wrote to %s (%s):" % (out["logdir"], out["logdir_note"]))
    files = out["files"]
    print("  %-44s the GraphDef as text (tf.train.write_graph)"
          % os.path.basename(files["graph"]))
    print("  %-44s TensorBoard events: the graph and the scalars loss, accuracy,"
          % os.path.basename(files["events"]))
    print("  %-44s eval/loss, eval/accuracy every %d steps" % ("", out["log_every"]))
    print()
    print("Open them with:")
    print("  tensorboard --logdir %s" % _shell_quote(out["logdir"]))
    print("  then http://localhost:6006: SCALARS for the curves, GRAPHS for the graph")
    import importlib.util
    if importlib.util.find_spec("tensorboard") is None:
        print("  (TensorBoard is not installed here: pip install tensorboard)")
    print("  graphflow inspect %s    (structure report of the graph)"
          % _shell_quote(files["graph"]))


def _shell_quote(path: str) -> str:
    import shlex
    return shlex.quote(path)


# --- study -----------------------------------------------------------------------------
STUDY_DESCRIPTION = """\
Build one model under every gate mode (gate_gradients GATE_NONE, GATE_OP,
GATE_GRAPH) and aggregation method (ADD_N, EXPERIMENTAL_TREE,
EXPERIMENTAL_ACCUMULATE_N) and print one table row per combination
(graphflow.analysis.compare): what gating and aggregation add to the graph
(ops, control edges, barriers, critical path, parallel width), the races
between variable reads and in-place updates, the memory plan's peak bytes,
the step time with the sequential and the parallel executor, and whether the
numbers stay bitwise the same under every schedule policy (default, asap,
alap, seeded random orders) and executor. A legend, the races explained in
words and the findings computed from the table follow.

Models (generated data, nothing downloaded): mlp (2-64-64-3 ReLU classifier,
SGD), deep (2-32x6-3 tanh classifier, Momentum: more layers, more races),
shared (one weight in 8 branches: a gradient of 8 terms, where the
aggregation method matters; Adam).

--trace DIR writes one Chrome trace (parallel executor) per combination;
--plot FILE draws the parallelism profiles and step times (needs matplotlib:
pip install 'graphflow[plot]'). Exit codes: 0 ok, 1 failure (for example
matplotlib missing), 2 bad arguments."""


def _study_args(p: argparse.ArgumentParser) -> None:
    from graphflow.analysis.compare import DEFAULT_SCHEDULES
    from graphflow.analysis.models import MODELS

    p.add_argument("--model", choices=sorted(MODELS), default="mlp",
                   help="the model to build (default: mlp)")
    p.add_argument("--gate", action="append", metavar="MODE", type=_gate_arg,
                   help="a gate mode: none, op, graph, GATE_OP or 0/1/2; repeatable "
                        "(default: all three)")
    p.add_argument("--aggregation", action="append", metavar="METHOD", type=_aggregation_arg,
                   help="an aggregation method: add_n, tree, accumulate_n (full TF names "
                        "and 0/1/2 too); repeatable (default: all three)")
    p.add_argument("--steps", type=_positive_int, default=3,
                   help="training steps per schedule policy and executor (default: 3)")
    p.add_argument("--schedule", action="append", metavar="POLICY", type=_schedule_arg,
                   help="a schedule policy: default, asap, alap, random:SEED; repeatable "
                        "(default: %s)" % ", ".join(DEFAULT_SCHEDULES))
    p.add_argument("--threads", type=_positive_int, default=2,
                   help="threads of the parallel executor (default: 2; at least 2)")
    p.add_argument("--timing-steps", type=_non_negative_int, default=20, metavar="N",
                   help="steps timed per executor for seq_ms/par_ms (default: 20; 0: none)")
    p.add_argument("--trace", metavar="DIR",
                   help="write one Chrome trace JSON per combination into DIR")
    p.add_argument("--plot", metavar="FILE",
                   help="draw parallelism profiles and step times into FILE (.png, .svg, "
                        ".pdf; needs matplotlib)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead")


def _gate_arg(text: str) -> int:
    from graphflow.analysis.compare import parse_gate
    try:
        return parse_gate(int(text) if text.isdigit() else text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _aggregation_arg(text: str) -> int:
    from graphflow.analysis.compare import parse_aggregation
    try:
        return parse_aggregation(int(text) if text.isdigit() else text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _schedule_arg(text: str) -> str:
    from graphflow.runtime.policies import get_policy
    try:
        get_policy(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def _cmd_study(args: argparse.Namespace) -> int:
    from graphflow.analysis import study
    from graphflow.analysis.compare import DEFAULT_SCHEDULES, compare
    from graphflow.analysis.models import MODELS

    if args.threads < 2:
        raise UsageError("--threads must be at least 2 (the parallel executor's), got %d"
                         % args.threads)
    if args.plot:
        folder = os.path.dirname(os.path.abspath(args.plot))
        if not os.path.isdir(folder):
            raise UsageError("--plot %s: directory %s does not exist" % (args.plot, folder))
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CommandError(study.PLOT_MISSING) from None
    if args.trace and os.path.exists(args.trace) and not os.path.isdir(args.trace):
        raise UsageError("--trace %s exists and is not a directory" % args.trace)
    build = MODELS[args.model]
    cmp = compare(build, args.gate or (0, 1, 2), args.aggregation or (0, 1, 2),
                          steps=args.steps,
                          schedules=tuple(args.schedule or DEFAULT_SCHEDULES),
                          threads=args.threads, timing_steps=args.timing_steps,
                          trace_dir=args.trace)
    title = "graphflow study: model %r (%s)" % (args.model, (build.__doc__ or "").strip().rstrip("."))
    if args.plot:
        study.plot(cmp, args.plot, title=title)
    if args.json:
        print(json.dumps({"model": args.model, "steps": cmp.steps,
                          "schedules": list(cmp.schedules), "threads": cmp.threads,
                          "rows": cmp.rows, "findings": study.findings(cmp),
                          "traces": [c.trace_file for c in cmp.combinations if c.trace_file],
                          "plot": os.path.abspath(args.plot) if args.plot else None}))
        return 0
    print(study.study_text(cmp, title))
    if args.plot:
        print("\nplot: %s" % os.path.abspath(args.plot))
    return 0


# --- inspect ---------------------------------------------------------------------------
INSPECT_DESCRIPTION = """\
Load a GraphDef written by graphflow or TensorFlow (tf.train.write_graph; text
.pbtxt or binary .pb) into a fresh graph and print its structure report
(graphflow.analysis.structure_report): ops by type, data and control edges,
barrier ops, the critical path in ops, FLOPs and bytes, and how many ops are
ready at each level. By default the report covers every op (all the ops that
nothing consumes are fetched); --fetch narrows it to what one run needs.

--races TRAIN_OP runs graphflow.analysis.races on the step TRAIN_OP runs: each
read of a variable that no edge orders against the variable's in-place
update, i.e. whose value depends on the schedule (TF's gate_gradients=GATE_NONE
caveat), explained in words.

If the file uses op types graphflow does not implement, the counts are taken
from the GraphDef itself (ops by type, edges, node list) and the report is
skipped. Exit codes: 0 ok, 1 unreadable or malformed file, 2 bad arguments."""


def _inspect_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="a GraphDef: FILE.pbtxt (text) or FILE.pb")
    p.add_argument("--fetch", action="append", metavar="NAME",
                   help="report on the subgraph that fetching NAME (an op or tensor "
                        "name, e.g. train or loss:0) runs; repeatable")
    p.add_argument("--races", metavar="TRAIN_OP",
                   help="list the variable read/update races in the step that runs "
                        "TRAIN_OP (e.g. the op optimizer.minimize returned)")
    p.add_argument("--nodes", action="store_true",
                   help="also list every node: name, op type and inputs")
    p.add_argument("--json", action="store_true", help="print one JSON object instead")


def _load_graph_def(path: str) -> Any:
    """Read ``path`` as a binary or text GraphDef; CommandError saying why not."""
    from graphflow import errors
    from graphflow.io.graph_def import parse_graph_def

    if os.path.isdir(path):
        raise CommandError("cannot read %s: it is a directory" % path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise CommandError("cannot read %s: no such file" % path) from None
    except OSError as e:
        raise CommandError("cannot read %s: %s" % (path, e.strerror or e)) from None
    if not data:
        raise CommandError("%s is empty (0 bytes), not a GraphDef" % path)
    text_first = path.endswith((".pbtxt", ".txt"))
    failures = []
    for as_text in ((True, False) if text_first else (False, True)):
        try:
            gd = parse_graph_def(data, as_text=as_text, source=path)
        except errors.DataLossError as e:
            failures.append("as %s: %s" % ("text" if as_text else "binary",
                                          e.message.split(": ", 1)[-1]))
            continue
        if gd.node or gd.HasField("versions"):
            return gd
        failures.append("as %s: no nodes and no versions" % ("text" if as_text else "binary"))
    raise CommandError("%s is not a GraphDef (%s)" % (path, "; ".join(failures)))


def graph_def_summary(gd: Any) -> dict:
    """Counts read straight from a GraphDef (no import): ops by type, edges, nodes."""
    from collections import Counter

    by_type = Counter(n.op for n in gd.node)
    control = sum(1 for n in gd.node for i in n.input if i.startswith("^"))
    data = sum(1 for n in gd.node for i in n.input if not i.startswith("^"))
    return {"nodes": len(gd.node),
            "ops_by_type": dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
            "data_edges": data, "control_edges": control,
            "node_list": [[n.name, n.op, list(n.input)] for n in gd.node]}


def _sink_ops(graph: Any) -> list:
    """Ops whose outputs nothing consumes and that are no op's control input."""
    used = set()
    for op in graph.get_operations():
        used.update(t.op for t in op.inputs)
        used.update(op.control_inputs)
    return [op for op in graph.get_operations() if op not in used]


def _resolve(graph: Any, name: str, what: str) -> Any:
    try:
        return graph.as_graph_element(name)
    except (KeyError, ValueError, TypeError) as e:
        sinks = sorted(_sink_ops(graph),  # likely train ops first
                       key=lambda op: not op.type.startswith(("NoOp", "Assign", "Apply")))
        names = ", ".join(op.name for op in sinks[:6])
        more = " and %d more" % (len(sinks) - 6) if len(sinks) > 6 else ""
        raise UsageError("%s %r: %s (ops nothing consumes: %s%s)"
                         % (what, name, str(e).strip("'\""), names, more)) from None


def _cmd_inspect(args: argparse.Namespace) -> int:
    import graphflow as tf
    from graphflow import errors
    from graphflow.framework import op_def

    gd = _load_graph_def(args.file)
    summary = graph_def_summary(gd)
    out: dict = {"file": os.path.abspath(args.file), **summary}
    known = op_def.registered_ops()
    unknown = sorted({n.op for n in gd.node} - set(known))
    graph = None
    if unknown:
        out["unsupported_op_types"] = unknown
        if args.races or args.fetch:
            raise CommandError("%s uses op types graphflow does not implement (%s): cannot "
                               "import it for --fetch/--races" % (args.file, ", ".join(unknown)))
    else:
        graph = tf.Graph()
        try:
            with graph.as_default():
                tf.import_graph_def(gd, name="")
        except (errors.OpError, ValueError, TypeError) as e:
            raise CommandError("cannot import the GraphDef in %s: %s"
                               % (args.file, getattr(e, "message", None) or e)) from None
    report = found = None
    if graph is not None:
        if args.fetch:
            fetches = [_resolve(graph, n, "--fetch") for n in args.fetch]
        else:
            fetches = _sink_ops(graph)
        train_op = _resolve(graph, args.races, "--races") if args.races else None
        if fetches:
            from graphflow.analysis import structure_report
            report = structure_report(graph, fetches)
            out["report"] = _report_dict(report)
        if train_op is not None:
            from graphflow.analysis import races
            found = races(graph, train_op)
            out["races"] = [{"reader": r.reader.name, "update": r.update.name,
                             "variable": r.variable.name, "via": [o.name for o in r.via],
                             "explanation": r.explain()} for r in found]
    if args.json:
        if not args.nodes:
            out.pop("node_list")
        print(json.dumps(out))
        return 0
    _print_inspect(args, out, report, found)
    return 0


def _report_dict(report: Any) -> dict:
    d = dict(report.row())
    d.update({"fetches": report.fetches, "ops_by_type": report.ops_by_type,
              "barriers": report.barriers, "critical_path": report.critical_path,
              "level_widths": report.level_widths, "total_flops": report.total_flops,
              "total_bytes": report.total_bytes})
    return d


def _print_inspect(args: argparse.Namespace, out: dict, report: Any, found: Any) -> None:
    print("%s: GraphDef with %d nodes, %d data edges, %d control edges"
          % (args.file, out["nodes"], out["data_edges"], out["control_edges"]))
    if out.get("unsupported_op_types"):
        print("note: graphflow does not implement %s; counts below come from the GraphDef "
              "alone (no structure report)" % ", ".join(out["unsupported_op_types"]))
        print()
        print("ops by type:")
        for t, n in out["ops_by_type"].items():
            print("  %-28s %d" % (t, n))
        args.nodes = True
    elif report is not None:
        text = report.format()
        if not args.fetch:  # the default fetches: say so briefly
            text = ("Structure of the whole graph (fetching the %d ops nothing consumes)"
                    % len(out["report"]["fetches"]) + text[text.index("\n"):])
        print()
        print(text)
    if args.nodes:
        print()
        print("nodes:")
        for name, typ, inputs in out["node_list"]:
            print("  %-40s %-24s %s" % (name, typ, ", ".join(inputs)))
    if found is not None:
        from graphflow.analysis import format_races
        print()
        print("Races in the step that runs %s:" % args.races)
        print(format_races(found))


# --- the command table -----------------------------------------------------------------
COMMANDS = [
    Command("demo", "train a small classifier; write graph.pbtxt and TensorBoard events",
            DEMO_DESCRIPTION, _demo_args, _cmd_demo),
    Command("study", "compare gate modes x aggregation methods on one model: graph, "
            "races, memory, time, reproducibility", STUDY_DESCRIPTION, _study_args, _cmd_study),
    Command("inspect", "print the structure report (and races) of a GraphDef file",
            INSPECT_DESCRIPTION, _inspect_args, _cmd_inspect),
]


# --- entry point -----------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per entry of ``COMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="graphflow",
        description="graphflow: a TensorFlow-1.x-compatible graph engine. "
                    "Run 'graphflow COMMAND --help' for a command's options.")
    from graphflow import __version__
    parser.add_argument("--version", action="version", version="graphflow " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS:
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.description,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run, _parser=p)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parse ``argv`` (default: sys.argv[1:]) and run the command; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help/--version exit 0; bad arguments exit 2
        return int(e.code) if isinstance(e.code, int) else 2
    prog = "graphflow %s" % args.command
    try:
        return int(args._run(args) or 0)
    except UsageError as e:
        args._parser.print_usage(sys.stderr)
        print("%s: error: %s" % (prog, e), file=sys.stderr)
        return 2
    except CommandError as e:
        if os.environ.get("GRAPHFLOW_DEBUG"):
            traceback.print_exc()
        print("%s: error: %s" % (prog, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("%s: interrupted" % prog, file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # noqa: BLE001 - report, don't dump a traceback at users
        if os.environ.get("GRAPHFLOW_DEBUG"):
            traceback.print_exc()
        print("%s: error: %s: %s" % (prog, type(e).__name__, e), file=sys.stderr)
        return 1
