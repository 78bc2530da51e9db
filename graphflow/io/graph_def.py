"""GraphDef: ``Graph.as_graph_def``, ``write_graph``, ``import_graph_def`` (formats.md §a).

A graphflow op becomes a NodeDef with TF's op type, input strings (``x``,
``u:1``, ``^ctrl`` after the data inputs), device and attrs. graphflow keeps
attrs as Python values; they map to AttrValues (DType -> ``type``,
TensorShape -> ``shape``, ndarray -> ``tensor``, lists -> ``list``) and values
with no proto form are skipped. TF's type attrs other than ``T`` (``Tidx``,
``Tshape``, ``N``, ...) are not stored by graphflow: they are derived from
the input dtypes when writing (``_TYPE_ATTRS``) and dropped when reading, so
``as_graph_def -> import_graph_def -> as_graph_def`` is a fixed point.

graphflow-internal op types (not in TF) are written as they are; TF's
import rejects those nodes only. Importing rebuilds each node through
``op_def.create_op`` in dependency order; an unknown op type raises
NotFoundError naming it, a malformed node ValueError naming the node.
"""
from __future__ import annotations

import heapq
import os
from typing import Any, Optional

from graphflow import errors
from graphflow.framework import graph as graph_mod
from graphflow.framework import op_def as op_def_mod
from graphflow.framework.operation import Operation, Tensor
from graphflow.io import checkpoint as ckpt_io
from graphflow.io import proto
from graphflow.io.tensor_proto import attr_from_proto, attr_value, shape_to_proto

__all__ = ["import_graph_def", "write_graph", "read_graph_def", "parse_graph_def",
           "GRAPH_DEF_VERSION"]

# The producer version TensorFlow 2.21 writes (formats.md §a); graphflow's ops
# follow the op semantics of that release.
GRAPH_DEF_VERSION = 2474
GRAPH_DEF_VERSION_MIN_CONSUMER = 0

# TF type attrs that are not simply ``T`` = the dtype of the inputs sharing it:
# attr -> the graphflow input whose dtype it records. An op listed here gets
# exactly these type attrs (``T`` is dropped when absent from its entry).
_TYPE_ATTRS: dict = {
    "All": {"Tidx": "reduction_indices"},
    "Any": {"Tidx": "reduction_indices"},
    "ArgMax": {"T": "input", "Tidx": "dimension"},
    "ArgMin": {"T": "input", "Tidx": "dimension"},
    "BroadcastTo": {"T": "input", "Tidx": "shape"},
    "ConcatV2": {"T": "values", "Tidx": "axis"},
    "ExpandDims": {"T": "input", "Tdim": "dim"},
    "Fill": {"T": "value", "index_type": "dims"},
    "GatherV2": {"Tparams": "params", "Tindices": "indices", "Taxis": "axis"},
    "IsVariableInitialized": {"dtype": "ref"},
    "LogicalAnd": {}, "LogicalNot": {}, "LogicalOr": {},
    "Max": {"T": "input", "Tidx": "reduction_indices"},
    "Mean": {"T": "input", "Tidx": "reduction_indices"},
    "Min": {"T": "input", "Tidx": "reduction_indices"},
    "MirrorPad": {"T": "input", "Tpaddings": "paddings"},
    "MirrorPadGrad": {"T": "input", "Tpaddings": "paddings"},
    "OneHot": {"T": "on_value", "TI": "indices"},
    "Pad": {"T": "input", "Tpaddings": "paddings"},
    "PadV2": {"T": "input", "Tpaddings": "paddings"},
    "PlaceholderWithDefault": {"dtype": "input"},
    "Prod": {"T": "input", "Tidx": "reduction_indices"},
    "RandomUniformInt": {"T": "shape", "Tout": "minval"},
    "Range": {"Tidx": "start"},
    "Reshape": {"T": "tensor", "Tshape": "shape"},
    "RestoreV2": {}, "SaveV2": {},
    "ScatterAdd": {"T": "ref", "Tindices": "indices"},
    "ScatterSub": {"T": "ref", "Tindices": "indices"},
    "ScatterUpdate": {"T": "ref", "Tindices": "indices"},
    "Slice": {"T": "input", "Index": "begin"},
    "SparseApplyAdadelta": {"T": "var", "Tindices": "indices"},
    "SparseApplyAdagrad": {"T": "var", "Tindices": "indices"},
    "SparseApplyCenteredRMSProp": {"T": "var", "Tindices": "indices"},
    "SparseApplyFtrl": {"T": "var", "Tindices": "indices"},
    "SparseApplyFtrlV2": {"T": "var", "Tindices": "indices"},
    "SparseApplyMomentum": {"T": "var", "Tindices": "indices"},
    "SparseApplyRMSProp": {"T": "var", "Tindices": "indices"},
    "SparseSoftmaxCrossEntropyWithLogits": {"T": "features", "Tlabels": "labels"},
    "SplitV": {"T": "value", "Tlen": "size_splits"},
    "StridedSlice": {"T": "input", "Index": "begin"},
    "StridedSliceGrad": {"T": "dy", "Index": "shape"},
    "Sum": {"T": "input", "Tidx": "reduction_indices"},
    "Tile": {"T": "input", "Tmultiples": "multiples"},
    "Transpose": {"T": "x", "Tperm": "perm"},
    "UnsortedSegmentSum": {"T": "data", "Tindices": "segment_ids",
                           "Tnumsegments": "num_segments"},
}
# List inputs carry their length in attr ``N`` except for these op types.
_NO_LENGTH_ATTR = {"SaveV2", "RestoreV2", "ReportUninitializedVariables"}
# Attrs TensorFlow adds that carry no meaning for graphflow's import.
_DROP_ON_IMPORT = {"_output_shapes"}


# --- writing -----------------------------------------------------------------------------------
def _input_string(t: Tensor) -> str:
    return t.op.name if t.value_index == 0 else "%s:%d" % (t.op.name, t.value_index)


def tf_attrs(op: Operation) -> dict:
    """The op's attrs as TF names them: graphflow's plus the derived type/length attrs."""
    attrs = dict(op._attrs)
    opdef = op.op_def
    structured = op_def_mod.structured_inputs(op)
    by_name = {n.lstrip("*"): v for n, v in zip(opdef.inputs, structured)}
    sig = _TYPE_ATTRS.get(op.type)
    if sig is not None:
        if "T" not in sig and "T" not in opdef.attrs:
            attrs.pop("T", None)
        for attr, input_name in sig.items():
            v = by_name.get(input_name)
            t = v[0] if isinstance(v, list) and v else v
            if isinstance(t, Tensor):
                attrs[attr] = t.dtype.base_dtype
    if op.type not in _NO_LENGTH_ATTR:
        for n, v in zip(opdef.inputs, structured):
            if n.startswith("*") and isinstance(v, list):
                attrs.setdefault("N", len(v))
    return attrs


def node_def(op: Operation, add_shapes: bool = False) -> Any:
    """The NodeDef of ``op`` (``Operation.node_def``)."""
    nd = proto.NodeDef(name=op.name, op=op.type, device=op.device or "")
    nd.input.extend(_input_string(t) for t in op._inputs)
    nd.input.extend("^" + c.name for c in op._control_inputs)
    for key, value in tf_attrs(op).items():
        av = attr_value(value, key)
        if av is not None:
            nd.attr[key].CopyFrom(av)
    if add_shapes:
        lst = nd.attr["_output_shapes"].list
        lst.SetInParent()
        for t in op._outputs:
            lst.shape.add().CopyFrom(shape_to_proto(t.shape))
    return nd


def graph_def_versions() -> Any:
    """The VersionDef graphflow writes (``Graph.graph_def_versions``)."""
    return proto.VersionDef(producer=GRAPH_DEF_VERSION,
                            min_consumer=GRAPH_DEF_VERSION_MIN_CONSUMER)


def graph_to_graph_def(graph: Any, from_version: Optional[int] = None,
                       add_shapes: bool = False) -> Any:
    """``Graph.as_graph_def``: nodes in creation order, then ``versions``."""
    with graph._lock:
        ops = list(graph._ops)
    if from_version is not None:
        ops = [op for op in ops if op._id >= from_version]
    gd = proto.GraphDef()
    for op in ops:
        gd.node.add().CopyFrom(node_def(op, add_shapes))
    gd.versions.CopyFrom(graph_def_versions())
    return gd


def _as_graph_def_proto(graph_or_graph_def: Any) -> Any:
    if isinstance(graph_or_graph_def, graph_mod.Graph):
        return graph_or_graph_def.as_graph_def()
    return graph_or_graph_def


def write_graph(graph_or_graph_def: Any, logdir: str, name: str, as_text: bool = True) -> str:
    """Write a Graph or GraphDef to ``logdir/name`` (``tf.train.write_graph``).

    Text format (``text_format.MessageToString``) by default, else the
    deterministic binary serialization. Creates ``logdir``; writes a temporary
    file in it, fsyncs and renames it into place, so the target is either the
    old file or the complete new one, even if the process is killed. Returns
    the path.

    Raises:
      ValueError: ``name`` is absolute or leads outside ``logdir`` (``..``).
    """
    gd = _as_graph_def_proto(graph_or_graph_def)
    if as_text:
        data = proto.text_format.MessageToString(gd).encode("utf-8")
    else:
        data = gd.SerializeToString(deterministic=True)
    path = os.path.join(logdir, name)
    if not name or "\0" in name or os.path.isabs(name) or \
            not ckpt_io.path_inside(path, logdir) or ckpt_io.path_inside(logdir, path):
        raise ValueError("write_graph: name %r must name a file inside logdir %r"
                         % (name, logdir))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    ckpt_io.atomic_write(path, data)
    return path


# --- reading -----------------------------------------------------------------------------------
def parse_graph_def(data: Any, as_text: Optional[bool] = None, source: str = "GraphDef") -> Any:
    """A GraphDef from serialized bytes or text; DataLossError when malformed.

    ``as_text=None`` tries binary first, then text (TF's loaders do one or
    the other; TF's C++ reader reports "Can't parse ... as binary proto").
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    data = bytes(data)
    if as_text is not True:
        gd = proto.GraphDef()
        try:
            gd.ParseFromString(data)
            return gd
        except proto.DecodeError as e:
            if as_text is False:
                raise errors.DataLossError(None, None, "Can't parse %s as binary proto: %s"
                                           % (source, e)) from None
    try:
        return proto.parse_text(data.decode("utf-8"), proto.GraphDef())
    except (ValueError, UnicodeDecodeError) as e:
        what = "text proto" if as_text else "binary or text proto"
        raise errors.DataLossError(None, None, "Can't parse %s as %s: %s"
                                   % (source, what, e)) from None


def read_graph_def(path: str, as_text: Optional[bool] = None) -> Any:
    """Load a GraphDef file written by ``write_graph`` (graphflow's or TF's).

    ``as_text=None`` picks text for ``.pbtxt``/``.txt`` names, else tries
    binary then text. NotFoundError when the file is missing.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, "%s; No such file or directory" % path) from None
    if as_text is None and path.endswith((".pbtxt", ".txt")):
        as_text = True
    return parse_graph_def(data, as_text, path)


def _to_graph_def(graph_def: Any) -> Any:
    if isinstance(graph_def, proto.GraphDef):
        return graph_def
    if isinstance(graph_def, (bytes, bytearray)):
        return parse_graph_def(graph_def, as_text=False)
    ser = getattr(graph_def, "SerializeToString", None)
    if ser is None or type(graph_def).__name__ != "GraphDef":
        raise TypeError("graph_def must be a GraphDef proto.")
    return parse_graph_def(ser(), as_text=False)  # e.g. TensorFlow's own GraphDef class


def _parse_input(s: str) -> tuple:
    """``'^c'`` -> ('c', -1); ``'u:1'`` -> ('u', 1); ``'x'`` -> ('x', 0)."""
    if s.startswith("^"):
        return s[1:], -1
    name, sep, idx = s.rpartition(":")
    if sep and idx.isdigit():
        return name, int(idx)
    return s, 0


def _tensor_key(name: str) -> str:
    return name if (":" in name or name.startswith("^")) else name + ":0"


def _node_order(gd: Any, mapped: set) -> list:
    """Nodes in dependency order (GraphDef order among ready nodes)."""
    index: dict = {}
    for i, n in enumerate(gd.node):
        if n.name in index:
            raise ValueError("Node '%s' is not unique" % n.name)
        index[n.name] = i
    deps = []
    users: list = [[] for _ in gd.node]
    for i, n in enumerate(gd.node):
        d = set()
        for s in n.input:
            src, k = _parse_input(s)
            key = ("^" + src) if k < 0 else "%s:%d" % (src, k)
            if key in mapped:
                continue
            if src not in index:
                raise ValueError("Node '%s': Unknown input node '%s'" % (n.name, s))
            d.add(index[src])
        deps.append(len(d))
        for j in d:
            users[j].append(i)
    ready = [i for i, c in enumerate(deps) if c == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            deps[u] -= 1
            if deps[u] == 0:
                heapq.heappush(ready, u)
    if len(order) != len(gd.node):
        stuck = [gd.node[i].name for i, c in enumerate(deps) if c > 0]
        raise ValueError("GraphDef has a cycle (or a node waits on one): %s"
                         % ", ".join(stuck[:5]))
    return [gd.node[i] for i in order]


def _mark_used(g: Any, name: str) -> None:
    parts = name.split("/")
    for k in range(1, len(parts) + 1):
        key = "/".join(parts[:k]).lower()
        if not g._names_in_use.get(key):
            g._names_in_use[key] = 1


def _name_prefixes(names: Any) -> set:
    out = set()
    for n in names:
        parts = n.split("/")
        out.update("/".join(parts[:k]) for k in range(1, len(parts) + 1))
    return out


def _renames(g: Any, gd: Any, prefix: str) -> dict:
    """New names for nodes that clash with the graph's ops or scopes (TF's
    uniquify_names: ``name_1``, ``name_2``...; a prefix already makes names unique)."""
    if prefix:
        return {}
    existing = _name_prefixes(g._by_name)
    taken = {n.name for n in gd.node} | existing
    out = {}
    for n in gd.node:
        if n.name in existing:
            k = 1
            while "%s_%d" % (n.name, k) in taken:
                k += 1
            out[n.name] = "%s_%d" % (n.name, k)
            taken.add(out[n.name])
    return out


def _import_attrs(node: Any, opdef: type, prefix: str) -> dict:
    attrs = {}
    for key in sorted(node.attr):
        if key in _DROP_ON_IMPORT:
            continue
        if not key.startswith("_") and key not in opdef.attrs:
            continue  # TF's derived type/length attrs and attrs graphflow lacks
        value = attr_from_proto(node.attr[key])
        if key == "_class" and prefix and isinstance(value, list):
            value = [("loc:@%s/%s" % (prefix, v[5:])) if isinstance(v, str)
                     and v.startswith("loc:@") else v for v in value]
        attrs[key] = value
    return attrs


def _group_inputs(node: Any, opdef: type, flat: list) -> list:
    """Regroup a node's flat data inputs by the OpDef's declared (list) inputs."""
    names = opdef.inputs
    lists = [i for i, n in enumerate(names) if n.startswith("*")]
    if not lists:
        if len(flat) != len(names):
            raise ValueError("NodeDef has %d inputs but op %s takes %d"
                             % (len(flat), node.op, len(names)))
        return list(flat)
    n_single = len(names) - len(lists)
    if len(lists) == 1:
        sizes = {lists[0]: len(flat) - n_single}
    else:
        if "N" not in node.attr:
            raise ValueError("cannot split the inputs of %s without attr N" % node.op)
        sizes = {i: int(node.attr["N"].i) for i in lists}
    out, pos = [], 0
    for i, n in enumerate(names):
        if i in sizes:
            k = sizes[i]
            if k < 0:
                raise ValueError("NodeDef has %d inputs, too few for op %s"
                                 % (len(flat), node.op))
            out.append(list(flat[pos:pos + k]))
            pos += k
        else:
            if pos >= len(flat):
                raise ValueError("NodeDef has %d inputs, too few for op %s"
                                 % (len(flat), node.op))
            out.append(flat[pos])
            pos += 1
    if pos != len(flat):
        raise ValueError("NodeDef has %d inputs but op %s takes %d"
                         % (len(flat), node.op, pos))
    return out


def import_graph_def(graph_def: Any, input_map: Optional[dict] = None,
                     return_elements: Optional[list] = None, name: Optional[str] = None,
                     op_dict: Any = None, producer_op_list: Any = None) -> Optional[list]:
    """Import a GraphDef into the default graph (``tf.import_graph_def``).

    Names get the prefix ``name`` (default ``import``, made unique:
    ``import_1``...; ``''`` for none). ``input_map`` maps tensor names
    (``'x:0'``, or ``'^x'`` for a control input) of ``graph_def`` to Tensors
    (Operations) of this graph. Returns the Tensors/Operations named in
    ``return_elements`` (``'y:0'`` a tensor, ``'y'`` an op), or None.
    """
    gd = _to_graph_def(graph_def)
    input_map = dict(input_map or {})
    for k, v in input_map.items():
        if not isinstance(k, str):
            raise TypeError("input_map must be a dictionary mapping strings to Tensor objects.")
    mapped = {_tensor_key(k): v for k, v in input_map.items()}
    if return_elements is not None:
        if isinstance(return_elements, str) or not all(isinstance(r, str)
                                                       for r in return_elements):
            raise TypeError("return_elements must be a list of strings.")
    g = graph_mod.get_default_graph()
    node_names = {n.name for n in gd.node}
    missing = sorted(k for k in mapped if _parse_input(k)[0] not in node_names)
    if missing:
        raise ValueError("Attempted to map inputs that were not found in graph_def: [%s]"
                         % ", ".join(missing))
    order = _node_order(gd, set(mapped))
    with g.name_scope(name if name is not None else "import") as scope:
        prefix = scope[:-1] if scope else ""
    created: dict = {}
    used_keys: set = set()
    renames = _renames(g, gd, prefix)
    for node in order:
        created[node.name] = _import_node(g, node, prefix, created, mapped, used_keys,
                                          renames.get(node.name, node.name))
    unused = sorted(set(mapped) - used_keys)
    if unused:
        raise ValueError("Attempted to map inputs that were not found in graph_def: [%s]"
                         % ", ".join(unused))
    if return_elements is None:
        return None
    out = []
    for r in return_elements:
        src, k = _parse_input(r)
        op = created.get(src)
        if op is None or (":" in r and k >= len(op.outputs)):
            raise ValueError("Requested return_element %r not found in graph_def." % r)
        out.append(op.outputs[k] if ":" in r else op)
    return out


def _import_node(g: Any, node: Any, prefix: str, created: dict, mapped: dict,
                 used_keys: set, new_name: str) -> Operation:
    opdef = op_def_mod.get_op_def(node.op)  # NotFoundError naming the op type
    data, control = [], []
    for s in node.input:
        src, k = _parse_input(s)
        key = ("^" + src) if k < 0 else "%s:%d" % (src, k)
        if key in mapped:
            used_keys.add(key)
            target = mapped[key]
            if k < 0:
                control.append(target.op if isinstance(target, Tensor) else target)
            else:
                data.append(target)
            continue
        op = created[src]
        if k < 0:
            control.append(op)
        elif k >= len(op.outputs):
            raise ValueError("Node '%s': Connecting to invalid output %d of source node %s "
                             "which has %d outputs." % (node.name, k, src, len(op.outputs)))
        else:
            data.append(op.outputs[k])
    full = "%s/%s" % (prefix, new_name) if prefix else new_name
    try:
        attrs = _import_attrs(node, opdef, prefix)
        inputs = _group_inputs(node, opdef, data)
        op = op_def_mod.create_op(node.op, inputs, attrs, full + "/")
    except errors.OpError:
        raise
    except Exception as e:  # noqa: BLE001 - any malformed node is reported by name
        raise ValueError("Node '%s' (op %s) could not be imported: %s"
                         % (node.name, node.op, e)) from e
    _mark_used(g, full)
    for c in control:
        if c not in op._control_inputs:
            op._control_inputs.append(c)
            c._control_outputs.append(op)
    if node.device:
        op._device = node.device
    return op
