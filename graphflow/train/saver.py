"""``tf.train.Saver`` and the checkpoint helpers (spec training_utils.md §5).

A Saver builds, under the name scope ``save``: the filename tensor
``save/Const:0`` (a PlaceholderWithDefault of ``"model"``), a ``SaveV2`` op and
``save/control_dependency:0`` (the filename, after the save), a ``RestoreV2``
op, one ``Assign`` per variable and ``save/restore_all``. ``save`` and
``restore`` run those ops with the path fed to the filename tensor, so
``sess.run('save/restore_all', {'save/Const:0': path})`` works as in TF.

File format and atomicity: see ``graphflow/io/checkpoint.py``. The
``checkpoint`` state file is replaced atomically after the bundle is in
place, so it never names a checkpoint whose save did not complete.
"""
from __future__ import annotations

import logging
import numbers
import os
import time
from typing import Any, Optional

from graphflow import dtypes, errors
from graphflow.framework import graph as graph_mod
from graphflow.framework.graph import GraphKeys
from graphflow.framework.operation import Tensor
from graphflow.io import checkpoint as ckpt_io
from graphflow.io.checkpoint import CheckpointState
from graphflow.ops import control_flow_ops, io_ops, state_ops
from graphflow.ops.array_ops import constant, placeholder_with_default
from graphflow.ops.variables import Variable

__all__ = ["Saver", "SaverDef", "CheckpointState", "latest_checkpoint", "get_checkpoint_state",
           "checkpoint_exists", "update_checkpoint_state", "generate_checkpoint_state_proto",
           "remove_checkpoint", "get_checkpoint_mtimes", "list_variables", "load_variable",
           "load_checkpoint", "NewCheckpointReader", "CheckpointReader"]

_log = logging.getLogger("graphflow")
_VARIABLE_OPS = ("Variable", "VariableV2", "AutoReloadVariable")


class SaverDef:
    """What a Saver built (``tf.train.SaverDef``): tensor/op names and policy."""

    LEGACY, V1, V2 = 0, 1, 2
    CheckpointFormatVersion = type("CheckpointFormatVersion", (), {"LEGACY": 0, "V1": 1, "V2": 2})

    def __init__(self, filename_tensor_name: str = "", save_tensor_name: str = "",
                 restore_op_name: str = "", max_to_keep: int = 0, sharded: bool = False,
                 keep_checkpoint_every_n_hours: float = 0.0, version: int = 2) -> None:
        self.filename_tensor_name = filename_tensor_name
        self.save_tensor_name = save_tensor_name
        self.restore_op_name = restore_op_name
        self.max_to_keep = max_to_keep
        self.sharded = sharded
        self.keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self.version = version

    def __repr__(self) -> str:
        return "SaverDef(%s)" % ", ".join("%s=%r" % kv for kv in vars(self).items())


# --- checkpoint management ---------------------------------------------------------
def _state_path(checkpoint_dir: str, latest_filename: Optional[str]) -> str:
    return os.path.join(checkpoint_dir, latest_filename or "checkpoint")


def generate_checkpoint_state_proto(save_dir: str, model_checkpoint_path: str,
                                    all_model_checkpoint_paths: Optional[list] = None,
                                    **unused: Any) -> CheckpointState:
    """A CheckpointState naming ``model_checkpoint_path`` as the newest; it is
    appended to ``all_model_checkpoint_paths`` when not already last. With a
    relative ``save_dir``, relative paths are made relative to it (TF's rule)."""
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    if not os.path.isabs(save_dir):
        if not os.path.isabs(model_checkpoint_path):
            model_checkpoint_path = os.path.relpath(model_checkpoint_path, save_dir)
        paths = [p if os.path.isabs(p) else os.path.relpath(p, save_dir) for p in paths]
    return CheckpointState(model_checkpoint_path, paths)


def update_checkpoint_state(save_dir: str, model_checkpoint_path: str,
                            all_model_checkpoint_paths: Optional[list] = None,
                            latest_filename: Optional[str] = None,
                            save_relative_paths: bool = False, **unused: Any) -> None:
    """Atomically rewrite ``<save_dir>/checkpoint`` (``tf.train.update_checkpoint_state``)."""
    path = _state_path(save_dir, latest_filename)
    paths = list(all_model_checkpoint_paths or [])
    if save_relative_paths:
        def rel(p: str) -> str:
            return os.path.relpath(p, save_dir) if os.path.isabs(p) else p
        model_checkpoint_path, paths = rel(model_checkpoint_path), [rel(p) for p in paths]
    state = generate_checkpoint_state_proto(save_dir, model_checkpoint_path, paths)
    if path == state.model_checkpoint_path:
        raise RuntimeError("Save path '%s' conflicts with path used for checkpoint state.  "
                           "Please use a different save path." % model_checkpoint_path)
    if save_dir:
        os.makedirs(save_dir, exist_ok=True)
    ckpt_io.atomic_write(path, ckpt_io.state_to_text(state).encode("utf-8"))


def get_checkpoint_state(checkpoint_dir: str,
                         latest_filename: Optional[str] = None) -> Optional[CheckpointState]:
    """The parsed ``checkpoint`` file of ``checkpoint_dir`` (relative paths joined
    to the directory), or None when it is missing or unreadable."""
    path = _state_path(checkpoint_dir, latest_filename)
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        if os.path.exists(path):
            _log.warning("%s: Checkpoint ignored", e)
        return None
    try:
        state = ckpt_io.parse_state(text)
    except ValueError as e:
        _log.warning("%s: %s: Checkpoint ignored", path, e)
        return None
    if not state.model_checkpoint_path:
        raise ValueError("Invalid checkpoint state loaded from " + checkpoint_dir)
    state.model_checkpoint_path = _confine(state.model_checkpoint_path, checkpoint_dir, path)
    state.all_model_checkpoint_paths = [_confine(p, checkpoint_dir, path)
                                        for p in state.all_model_checkpoint_paths]
    return state


def _confine(entry: str, checkpoint_dir: str, state_path: str) -> str:
    """A state-file entry as a path: relative ones joined to ``checkpoint_dir``
    (TF's rule). An entry resolving outside the directory (``../x``, a foreign
    absolute path: a crafted or moved state file) is taken as the checkpoint of
    that base name inside the directory, so that neither restoring nor a Saver's
    cleanup of old checkpoints (``recover_last_checkpoints``) touches files elsewhere.
    """
    full = entry if os.path.isabs(entry) else os.path.join(checkpoint_dir, entry)
    if ckpt_io.path_inside(full, checkpoint_dir):
        return full
    inside = os.path.join(checkpoint_dir, os.path.basename(entry))
    _log.warning("%s names %s, outside %s; using %s instead", state_path, entry,
                 checkpoint_dir, inside)
    return inside


def checkpoint_exists(checkpoint_prefix: str) -> bool:
    """True when ``<prefix>.index`` exists (``tf.train.checkpoint_exists``)."""
    import glob
    return bool(glob.glob(checkpoint_prefix + ckpt_io.INDEX_SUFFIX))


def latest_checkpoint(checkpoint_dir: str, latest_filename: Optional[str] = None
                      ) -> Optional[str]:
    """The newest checkpoint prefix named by the ``checkpoint`` file, or None
    (also None when that checkpoint's files are gone)."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state and state.model_checkpoint_path:
        if checkpoint_exists(state.model_checkpoint_path):
            return state.model_checkpoint_path
        _log.error("Couldn't match files for checkpoint %s", state.model_checkpoint_path)
    return None


def remove_checkpoint(checkpoint_prefix: str, checkpoint_format_version: int = SaverDef.V2,
                      meta_graph_suffix: str = "meta") -> None:
    """Delete the files of one checkpoint (``tf.train.remove_checkpoint``), the
    index first, and the temporary files of interrupted saves of that prefix."""
    for p in ckpt_io.checkpoint_files(checkpoint_prefix, meta_graph_suffix, temporaries=True):
        try:
            os.remove(p)
        except FileNotFoundError:
            pass


def get_checkpoint_mtimes(checkpoint_prefixes: list) -> list:
    """Modification times of the checkpoints' index files (missing ones skipped)."""
    out = []
    for p in checkpoint_prefixes:
        try:
            out.append(os.path.getmtime(p + ckpt_io.INDEX_SUFFIX))
        except OSError:
            pass
    return out


class CheckpointReader:
    """Reads keys, shapes, dtypes and values of a checkpoint
    (``tf.train.NewCheckpointReader``'s result)."""

    def __init__(self, prefix: str) -> None:
        self._reader = ckpt_io.BundleReader(prefix)

    def has_tensor(self, name: str) -> bool:
        """True if the checkpoint holds the key ``name``."""
        return self._reader.has_tensor(name)

    def get_tensor(self, name: str) -> Any:
        """The stored value of ``name`` as a NumPy array (a scalar for 0-d)."""
        value = self._reader.get_tensor(name)
        return value[()] if value.ndim == 0 and value.dtype != object else value

    def get_variable_to_shape_map(self) -> dict:
        """``{key: shape as a list}`` for every stored tensor."""
        return {k: list(self._reader.shape(k)) for k in self._reader.keys()}

    def get_variable_to_dtype_map(self) -> dict:
        """``{key: DType}`` for every stored tensor."""
        return {k: self._reader.dtype(k) for k in self._reader.keys()}

    def debug_string(self) -> bytes:
        """One ``'key (dtype) shape'`` line per stored tensor, as bytes."""
        return "".join("%s (%s) %s\n" % (k, self._reader.dtype(k).name,
                                         list(self._reader.shape(k)))
                       for k in self._reader.keys()).encode()


def _resolve(ckpt_dir_or_file: str) -> str:
    if os.path.isdir(ckpt_dir_or_file):
        latest = latest_checkpoint(ckpt_dir_or_file)
        if latest is None:
            raise ValueError("Couldn't find 'checkpoint' file or checkpoints in given "
                             "directory %s" % ckpt_dir_or_file)
        return latest
    return ckpt_dir_or_file


def NewCheckpointReader(filepattern: str) -> CheckpointReader:  # noqa: N802  (TF's name)
    """A reader of the checkpoint ``filepattern`` (a prefix)."""
    return CheckpointReader(filepattern)


def load_checkpoint(ckpt_dir_or_file: str) -> CheckpointReader:
    """A reader of the checkpoint, or of the newest one in a directory."""
    return CheckpointReader(_resolve(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file: str) -> list:
    """Sorted ``[(name, shape), ...]`` of a checkpoint (``tf.train.list_variables``)."""
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return [(k, shapes[k]) for k in sorted(shapes)]


def load_variable(ckpt_dir_or_file: str, name: str) -> Any:
    """The stored value of ``name`` (a trailing ``:0`` is ignored)."""
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


# --- the Saver -------------------------------------------------------------------------
def _var_key(v: Any) -> str:
    if isinstance(v, Variable):
        return v.op.name
    if isinstance(v, Tensor) and v.op.type in _VARIABLE_OPS:
        return v.op.name
    raise TypeError("Variable to save is not a Variable: %s" % (v,))


def _to_dict(var_list: Any) -> dict:
    """``{checkpoint key: variable}`` from a list or a dict (TF's ``op_list_to_dict``)."""
    if isinstance(var_list, dict):
        out = {}
        for k, v in var_list.items():
            if not isinstance(v, Variable) and not (isinstance(v, Tensor)
                                                    and v.op.type in _VARIABLE_OPS):
                raise TypeError("names_to_saveables must be a dict mapping string names to "
                                "Tensors/Variables. Not a variable: %s" % (v,))
            out[str(k)] = v
        return out
    if not isinstance(var_list, (list, tuple, set)):
        raise TypeError("Variables to save should be passed in a dict or a list: %s"
                        % (var_list,))
    out = {}
    for v in var_list:
        key = _var_key(v)
        if key in out:
            raise ValueError("At least two variables have the same name: %s" % key)
        out[key] = v
    return out


class Saver:
    """Saves and restores variables (``tf.train.Saver``; TF1 signature).

    ``var_list`` is None (every global variable existing now), a list (keys
    are the variables' op names) or a dict ``{key: variable}``. ``max_to_keep``
    newest checkpoints are kept (None or 0 keeps all); one per
    ``keep_checkpoint_every_n_hours`` is kept in addition.
    """

    def __init__(self, var_list: Any = None, reshape: bool = False, sharded: bool = False,
                 max_to_keep: Optional[int] = 5, keep_checkpoint_every_n_hours: float = 10000.0,
                 name: Optional[str] = None, restore_sequentially: bool = False,
                 saver_def: Optional[SaverDef] = None, builder: Any = None,
                 defer_build: bool = False, allow_empty: bool = False,
                 write_version: int = SaverDef.V2, pad_step_number: bool = False,
                 save_relative_paths: bool = False, filename: Optional[str] = None) -> None:
        if defer_build and var_list is not None:
            raise ValueError("If `var_list` is provided then build cannot be deferred. Either "
                             "set defer_build=False or var_list=None.")
        self._var_list = var_list
        self._reshape = reshape
        self._sharded = sharded
        self._max_to_keep = max_to_keep
        self._keep_hours = keep_checkpoint_every_n_hours
        self._name = name
        self._saver_def = saver_def
        self._allow_empty = allow_empty
        self._write_version = write_version
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._filename = filename
        self._is_built = False
        self._is_empty = False
        self._last_checkpoints: list = []   # [(prefix, time)]
        self._to_delete: list = []
        self._next_checkpoint_time = time.time() + self._keep_hours * 3600
        if saver_def is not None:
            self._is_built = True
            self._max_to_keep = saver_def.max_to_keep
        elif not defer_build:
            self.build()

    # --- building ---------------------------------------------------------------------
    def build(self) -> None:
        """Build the save/restore ops (only needed after ``defer_build=True``)."""
        if self._is_built:
            return
        self._is_built = True
        var_list = self._var_list
        if var_list is None:
            var_list = graph_mod.get_collection(GraphKeys.GLOBAL_VARIABLES)
        named = _to_dict(var_list)
        if not named:
            if self._allow_empty:
                self._is_empty = True
                return
            raise ValueError("No variables to save")
        self._vars = named
        self._saver_def = self._build_ops(named)

    def _build_ops(self, named: dict) -> SaverDef:
        keys = sorted(named)
        g = graph_mod.get_default_graph()
        refs = [named[k]._ref() if isinstance(named[k], Variable) else named[k] for k in keys]
        with graph_mod.name_scope(self._name, "save", refs) as scope:
            fname = placeholder_with_default(
                constant(self._filename or "model", dtype=dtypes.string, name="filename/input"),
                shape=(), name="filename")
            fname = placeholder_with_default(fname, shape=(), name="Const")
            types = [r.dtype.base_dtype for r in refs]
            with graph_mod.name_scope("SaveV2") as s:
                names_t = constant(keys, dtype=dtypes.string, name="tensor_names")
                slices_t = constant([""] * len(keys), dtype=dtypes.string,
                                    name="shape_and_slices")
                save_op = io_ops.save_v2(fname, names_t, slices_t, refs, name=s)
            save_tensor = control_flow_ops.with_dependencies([save_op], fname)
            with graph_mod.name_scope("RestoreV2") as s:
                names_r = constant(keys, dtype=dtypes.string, name="tensor_names")
                slices_r = constant([""] * len(keys), dtype=dtypes.string,
                                    name="shape_and_slices")
                restored = io_ops.restore_v2(fname, names_r, slices_r, types, name=s)
            assigns = []
            for ref, value in zip(refs, restored):
                validate = not self._reshape and ref.shape.is_fully_defined()
                with g.colocate_with(ref.op):
                    assigns.append(state_ops.assign(ref, value, validate_shape=validate))
            restore_op = control_flow_ops.group(*assigns, name="restore_all")
        return SaverDef(filename_tensor_name=fname.name, save_tensor_name=save_tensor.name,
                        restore_op_name=restore_op.name, max_to_keep=self._max_to_keep or 0,
                        sharded=self._sharded,
                        keep_checkpoint_every_n_hours=self._keep_hours,
                        version=self._write_version)

    @property
    def saver_def(self) -> Optional[SaverDef]:
        """The ``SaverDef`` naming the save/restore tensors and ops."""
        return self._saver_def

    def as_saver_def(self) -> Optional[SaverDef]:
        """The ``SaverDef`` of this Saver (also ``to_proto``)."""
        return self._saver_def

    to_proto = as_saver_def

    @staticmethod
    def from_proto(saver_def: SaverDef, import_scope: Optional[str] = None) -> "Saver":
        """A Saver over the ops a ``SaverDef`` names (``tf.train.Saver.from_proto``)."""
        return Saver(saver_def=saver_def, name=import_scope)

    # --- bookkeeping of kept checkpoints ---------------------------------------------------
    @property
    def last_checkpoints(self) -> list:
        """Prefixes of the kept checkpoints, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints: list) -> None:
        """Replace the list of kept checkpoint prefixes (TypeError unless a list)."""
        if not isinstance(last_checkpoints, list):
            raise TypeError("last_checkpoints must be a list")
        self._last_checkpoints = [(p, None) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time: list) -> None:
        """Replace the kept checkpoints with ``(prefix, timestamp)`` pairs."""
        self._last_checkpoints = [tuple(x) for x in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths: list) -> None:
        """Adopt the existing ones of ``checkpoint_paths`` (e.g. after a restart)."""
        kept = [(p, os.path.getmtime(p + ckpt_io.INDEX_SUFFIX)) for p in checkpoint_paths
                if checkpoint_exists(p)]
        self._last_checkpoints = sorted(kept, key=lambda x: x[1])

    def _record(self, prefix: str) -> None:
        if not self._max_to_keep:
            return
        self._last_checkpoints = [x for x in self._last_checkpoints if x[0] != prefix]
        self._last_checkpoints.append((prefix, time.time()))
        while len(self._last_checkpoints) > self._max_to_keep:
            self._to_delete.append(self._last_checkpoints.pop(0))

    def _delete_old(self, meta_graph_suffix: str) -> None:
        while self._to_delete:
            prefix, stamp = self._to_delete.pop(0)
            if stamp is not None and stamp > self._next_checkpoint_time:
                self._next_checkpoint_time += self._keep_hours * 3600
                continue
            try:
                remove_checkpoint(prefix, self._write_version, meta_graph_suffix)
            except OSError as e:
                _log.warning("Ignoring: %s", e)

    # --- save / restore ----------------------------------------------------------------
    def save(self, sess: Any, save_path: str, global_step: Any = None,
             latest_filename: Optional[str] = None, meta_graph_suffix: str = "meta",
             write_meta_graph: bool = True, write_state: bool = True,
             strip_default_attrs: bool = False, save_debug_info: bool = False
             ) -> Optional[str]:
        """Save the variables' values; returns the checkpoint prefix
        (``save_path`` or ``'<save_path>-<step>'``), None for an empty Saver."""
        if not self._is_built:
            raise RuntimeError("`build()` should be called before save if defer_build==True")
        if latest_filename is None:
            latest_filename = "checkpoint"
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        if any(c in meta_graph_suffix for c in ("/", "\\", "\0")):
            raise ValueError("'meta_graph_suffix' must not contain path components: %r"
                             % (meta_graph_suffix,))
        save_path = os.fspath(save_path)
        if global_step is not None:
            if not isinstance(global_step, numbers.Number):
                global_step = int(sess.run(global_step))
            fmt = "%s-%08d" if self._pad_step_number else "%s-%d"
            prefix = fmt % (save_path, int(global_step))
        else:
            prefix = save_path
            if os.path.basename(save_path) == latest_filename and not self._sharded:
                raise ValueError("'latest_filename' collides with 'save_path': '%s' and '%s'"
                                 % (latest_filename, save_path))
        if not hasattr(sess, "run"):
            raise TypeError("'sess' must be a Session; %s" % (sess,))
        if self._is_empty:
            return None
        sd = self._saver_def
        result = sess.run(sd.save_tensor_name, {sd.filename_tensor_name: prefix})
        path = result.decode("utf-8") if isinstance(result, bytes) else str(result)
        if write_state:
            self._record(path)
            update_checkpoint_state(os.path.dirname(save_path), path,
                                    self.last_checkpoints, latest_filename,
                                    save_relative_paths=self._save_relative_paths)
            self._delete_old(meta_graph_suffix)
        if write_meta_graph:
            _maybe_export_meta_graph(sess.graph, prefix + "." + meta_graph_suffix, sd)
        return path

    def restore(self, sess: Any, save_path: Optional[str]) -> None:
        """Assign the values stored at ``save_path`` to the Saver's variables.

        Raises:
          ValueError: ``save_path`` is None or not a checkpoint.
          NotFoundError: a variable's key is missing from the checkpoint.
          InvalidArgumentError: a shape or dtype differs from the checkpoint's.
          DataLossError: the checkpoint files are truncated or corrupt.
        """
        if self._is_empty:
            return
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        save_path = os.fspath(save_path)
        if not checkpoint_exists(save_path):
            raise ValueError("The passed save_path is not a valid checkpoint: " + save_path)
        sd = self._saver_def
        try:
            sess.run(sd.restore_op_name, {sd.filename_tensor_name: save_path})
        except errors.NotFoundError as err:
            raise _wrap_restore_error(err, "a Variable name or other graph key that is "
                                           "missing") from None
        except errors.InvalidArgumentError as err:
            raise _wrap_restore_error(err, "a mismatch between the current graph and the "
                                           "graph") from None

    def export_meta_graph(self, filename: Optional[str] = None, **kwargs: Any) -> Any:
        """Write the graph and this Saver's SaverDef (needs ``graphflow.io.meta_graph``)."""
        g = graph_mod.get_default_graph()
        if not _maybe_export_meta_graph(g, filename, self._saver_def):
            raise NotImplementedError("graphflow cannot write MetaGraphDef files yet")


def _wrap_restore_error(err: errors.OpError, what: str) -> errors.OpError:
    msg = ("Restoring from checkpoint failed. This is most likely due to %s from the "
           "checkpoint. Please ensure that you have not altered the graph expected based on "
           "the checkpoint. Original error:\n\n%s" % (what, err.message))
    return type(err)(err.node_def, err.op, msg)


def _maybe_export_meta_graph(graph: Any, filename: Optional[str], saver_def: Any) -> bool:
    """Write ``filename`` through ``graphflow.io.meta_graph.export_meta_graph`` when
    that module exists (it is not part of graphflow yet); False otherwise."""
    try:
        from graphflow.io import meta_graph  # type: ignore[attr-defined]
    except ImportError:
        return False
    meta_graph.export_meta_graph(filename=filename, graph=graph, saver_def=saver_def)
    return True

