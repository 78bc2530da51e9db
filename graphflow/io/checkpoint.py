"""Checkpoint files: graphflow's tensor bundle and the ``checkpoint`` state file.

A checkpoint with prefix ``P`` is two files (the names TF's V2 format uses;
the bytes are graphflow's own format, not TF's):

``P.data-00000-of-00001``
    The tensors' bytes, one after the other in sorted key order. Numeric and
    bool tensors are raw little-endian, row-major. A string tensor is, per
    element in row-major order, an 8-byte little-endian length and the bytes.

``P.index``
    One ASCII header line ``graphflow-checkpoint v1 <crc32 hex> <length>\\n``
    followed by ``length`` bytes of UTF-8 JSON::

        {"data_file": "P.data-00000-of-00001" (base name), "data_size": N,
         "tensors": {"<key>": {"dtype": "float32", "shape": [2, 3],
                               "offset": 0, "size": 24, "crc32": 305419896}}}

    The header CRC32 covers the JSON bytes; each tensor's CRC32 covers its
    bytes in the data file. Loading parses JSON and raw numbers only: nothing
    in a checkpoint is evaluated or unpickled.

A truncated, resized or bit-flipped file raises ``DataLossError`` (the index
at open time; a tensor's bytes when the tensor is read). ``write_bundle``
writes both files under temporary names and fsyncs them; the rename of the
index is the commit. For a new prefix the data is renamed into place first.
Re-saving an existing prefix (``saver.save(sess, "model")`` in a loop) commits
an index naming the new data's temporary file, then renames the data into
place and rewrites the index; a reader that finds the named temporary gone
reads the final data name (size and checksums verified). So a process killed
at any point leaves the old checkpoint or the new one, never none and never a
mismatched pair. The ``checkpoint`` state file (protobuf text of
CheckpointState) is replaced atomically, after the bundle. A killed save
leaves ``<file>.tmp*`` temporaries, which no reader matches; they are deleted
with their prefix (``checkpoint_files(..., temporaries=True)``) and, once
untouched for ``STALE_SECONDS``, by the next save of the prefix.
"""
from __future__ import annotations

import glob
import json
import os
import re
import tempfile
import time
import zlib
from typing import Any, Iterable, Optional

import numpy as np

from graphflow import dtypes, errors

MAGIC = "graphflow-checkpoint"
VERSION = 1
DATA_SUFFIX = ".data-00000-of-00001"
INDEX_SUFFIX = ".index"
_CHUNK = 1 << 20

# TF's DataTypeString names, used in restore error messages.
TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def tf_type_name(dtype: Any) -> str:
    name = dtypes.as_dtype(dtype).base_dtype.name
    return TF_TYPE_NAMES.get(name, name)


def _data_loss(msg: str) -> errors.DataLossError:
    return errors.DataLossError(None, None, msg)


# --- encoding -------------------------------------------------------------------------
def _encode(array: np.ndarray, dtype: dtypes.DType) -> bytes:
    """The bytes of one tensor in the data file."""
    if dtype == dtypes.string:
        parts = []
        for item in np.asarray(array, dtype=object).reshape(-1):
            b = item.encode("utf-8") if isinstance(item, str) else bytes(item)
            parts.append(len(b).to_bytes(8, "little"))
            parts.append(b)
        return b"".join(parts)
    arr = np.ascontiguousarray(array, dtype=dtype.np)
    return arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(order="C")


def _decode(buf: bytes, dtype: dtypes.DType, shape: tuple, key: str) -> np.ndarray:
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if dtype == dtypes.string:
        out = np.empty(count, dtype=object)
        pos = 0
        for i in range(count):
            if pos + 8 > len(buf):
                raise _data_loss("Checkpoint tensor %s: string data is truncated" % key)
            n = int.from_bytes(buf[pos:pos + 8], "little")
            pos += 8
            if pos + n > len(buf):
                raise _data_loss("Checkpoint tensor %s: string data is truncated" % key)
            out[i] = bytes(buf[pos:pos + n])
            pos += n
        if pos != len(buf):
            raise _data_loss("Checkpoint tensor %s: %d bytes left after its strings"
                             % (key, len(buf) - pos))
        return out.reshape(shape)
    le = dtype.np.newbyteorder("<")
    if len(buf) != count * le.itemsize:
        raise _data_loss("Checkpoint tensor %s: expected %d bytes, found %d"
                         % (key, count * le.itemsize, len(buf)))
    return np.frombuffer(buf, dtype=le).astype(dtype.np).reshape(shape)


# --- atomic file writes -------------------------------------------------------------------
def _fsync_dir(path: str) -> None:
    """Make a rename in ``path`` durable (best effort where unsupported)."""
    try:
        fd = os.open(path or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_for(path: str) -> tuple:
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp", dir=d)
    return os.fdopen(fd, "wb"), tmp


def _write_chunks(f: Any, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to ``f`` (one function, so tests can make it fail midway)."""
    for c in chunks:
        f.write(c)


def atomic_write(path: str, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically: temp file, fsync, rename."""
    f, tmp = _temp_for(path)
    try:
        with f:
            _write_chunks(f, [data])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_dir(os.path.dirname(path))


def path_inside(path: str, directory: str) -> bool:
    """Whether ``path`` lies in ``directory`` or below it: lexically (``..``
    resolved), or after resolving symbolic links on both sides."""
    for norm in (os.path.abspath, os.path.realpath):
        d, p = norm(directory or "."), norm(path)
        try:
            if os.path.commonpath([d, p]) == d:
                return True
        except ValueError:  # different drives (Windows)
            pass
    return False


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


# --- bundle writer / reader ----------------------------------------------------------------
def write_bundle(prefix: str, tensors: dict) -> None:
    """Write ``{key: (array, dtype)}`` as the checkpoint ``prefix`` (see module doc).

    The parent directory is created if needed. A new prefix: data file, then
    index (the commit). Re-saving an existing prefix, where the old files must
    stay valid until the new ones are: the new index first, naming the new
    data under its temporary name (the commit), then the data renamed into
    place, then the index rewritten to name it; a reader finding the named
    temporary gone uses the final data name (verified by size and checksums).
    On a failure before the commit the temporary files are removed and an
    earlier checkpoint stays as it was; after it, the new checkpoint stands.
    """
    parent = os.path.dirname(prefix)
    if parent:
        os.makedirs(parent, exist_ok=True)
    data_path, index_path = prefix + DATA_SUFFIX, prefix + INDEX_SUFFIX
    resave = os.path.exists(index_path)
    remove_stale_temporaries(prefix)
    entries: dict = {}
    data_tmp = None
    committed = False
    try:
        f, data_tmp = _temp_for(data_path)
        with f:
            offset = 0
            for key in sorted(tensors):
                array, dtype = tensors[key]
                dtype = dtypes.as_dtype(dtype).base_dtype
                arr = np.asarray(array, dtype=dtype.np)
                buf = _encode(arr, dtype)
                _write_chunks(f, [buf])
                entries[key] = {"dtype": dtype.name, "shape": [int(d) for d in arr.shape],
                                "offset": offset, "size": len(buf),
                                "crc32": zlib.crc32(buf) & 0xFFFFFFFF}
                offset += len(buf)
            f.flush()
            os.fsync(f.fileno())
        if resave:
            atomic_write(index_path, _index_bytes(os.path.basename(data_tmp), offset, entries))
            committed = True
        os.replace(data_tmp, data_path)
        data_tmp = None
        if not resave:
            _fsync_dir(parent)
        atomic_write(index_path, _index_bytes(os.path.basename(data_path), offset, entries))
    except BaseException:
        if data_tmp is not None and not committed:
            _remove_quietly(data_tmp)
        raise


def _index_bytes(data_file: str, data_size: int, entries: dict) -> bytes:
    body = json.dumps({"data_file": data_file, "data_size": data_size, "tensors": entries},
                      sort_keys=True).encode("utf-8")
    header = "%s v%d %08x %d\n" % (MAGIC, VERSION, zlib.crc32(body) & 0xFFFFFFFF, len(body))
    return header.encode("ascii") + body


STALE_SECONDS = 600.0  # a temporary untouched this long belongs to a save that died


def remove_stale_temporaries(prefix: str, now: Optional[float] = None) -> list:
    """Delete temporaries of interrupted saves of ``prefix`` unmodified for
    STALE_SECONDS (a save in progress keeps writing its own), except a data file
    the current index names. Returns the removed paths."""
    named = None
    try:
        with open(prefix + INDEX_SUFFIX, "rb") as f:
            raw = f.read(1 << 20)
        named = json.loads(raw[raw.index(b"\n") + 1:].decode("utf-8"))["data_file"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    now = time.time() if now is None else now
    removed = []
    pattern = glob.escape(prefix)
    for p in glob.glob(pattern + INDEX_SUFFIX + ".tmp*") + \
            glob.glob(pattern + ".data-?????-of-?????.tmp*"):
        try:
            if os.path.basename(p) == named or now - os.path.getmtime(p) < STALE_SECONDS:
                continue
            os.remove(p)
            removed.append(p)
        except OSError:
            pass
    return removed


_HEADER = re.compile(r"^%s v(\d+) ([0-9a-f]{8}) (\d+)$" % MAGIC)


class BundleReader:
    """Read access to one checkpoint (backs ``tf.train.NewCheckpointReader``).

    Raises:
      NotFoundError: ``prefix.index`` does not exist.
      DataLossError: the index is corrupt or the data file has the wrong size.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        index_path = prefix + INDEX_SUFFIX
        try:
            with open(index_path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise errors.NotFoundError(
                None, None, "Unsuccessful TensorSliceReader constructor: Failed to find any "
                            "matching files for %s" % prefix) from None
        except IsADirectoryError:
            raise errors.NotFoundError(None, None, "%s is a directory, not a checkpoint"
                                       % index_path) from None
        self._entries = self._parse_index(raw, index_path)
        self._data_path = os.path.join(os.path.dirname(index_path), self._data_file)
        if not os.path.exists(self._data_path) and os.path.exists(prefix + DATA_SUFFIX):
            # a re-save renamed the data the index names into place (see write_bundle)
            self._data_path = prefix + DATA_SUFFIX
        try:
            size = os.path.getsize(self._data_path)
        except OSError:
            raise _data_loss("Checkpoint data file %s is missing" % self._data_path) from None
        if size != self._data_size:
            raise _data_loss("Checkpoint data file %s has %d bytes, its index expects %d "
                             "(truncated or corrupt)" % (self._data_path, size,
                                                         self._data_size))

    def _parse_index(self, raw: bytes, path: str) -> dict:
        nl = raw.find(b"\n")
        try:
            m = _HEADER.match(raw[:nl].decode("ascii")) if nl > 0 else None
        except UnicodeDecodeError:
            m = None
        if m is None:
            raise _data_loss("Checkpoint index %s: not a graphflow checkpoint index or its "
                             "header is corrupt" % path)
        if int(m.group(1)) != VERSION:
            raise _data_loss("Checkpoint index %s: unsupported version %s"
                             % (path, m.group(1)))
        body = raw[nl + 1:]
        if len(body) != int(m.group(3)) or (zlib.crc32(body) & 0xFFFFFFFF) != int(m.group(2),
                                                                                   16):
            raise _data_loss("Checkpoint index %s is truncated or corrupt (checksum mismatch)"
                             % path)
        try:
            meta = json.loads(body.decode("utf-8"))
            self._data_file = os.path.basename(str(meta["data_file"]))
            self._data_size = int(meta["data_size"])
            entries = {}
            for key, e in meta["tensors"].items():
                entries[str(key)] = (dtypes.as_dtype(str(e["dtype"])),
                                     tuple(int(d) for d in e["shape"]), int(e["offset"]),
                                     int(e["size"]), int(e["crc32"]))
        except (ValueError, KeyError, TypeError, AttributeError) as ex:
            raise _data_loss("Checkpoint index %s is malformed: %s" % (path, ex)) from None
        for key, (dtype, shape, off, n, _) in entries.items():
            if off < 0 or n < 0 or off + n > self._data_size:
                raise _data_loss("Checkpoint index %s: tensor %s lies outside the data file"
                                 % (path, key))
            count = 1
            for d in shape:  # Python ints: a crafted [2**32, 2**32] cannot wrap around
                if d < 0:
                    raise _data_loss("Checkpoint index %s: tensor %s has a negative "
                                     "dimension %s" % (path, key, list(shape)))
                count *= d
            need = count * 8 if dtype == dtypes.string else count * dtype.np.itemsize
            if (need > n) if dtype == dtypes.string else (need != n):
                raise _data_loss("Checkpoint index %s: tensor %s of shape %s needs %s%d "
                                 "bytes, the index gives %d"
                                 % (path, key, list(shape),
                                    "at least " if dtype == dtypes.string else "", need, n))
        return entries

    def keys(self) -> list:
        return sorted(self._entries)

    def has_tensor(self, key: str) -> bool:
        return key in self._entries

    def dtype(self, key: str) -> dtypes.DType:
        return self._entry(key)[0]

    def shape(self, key: str) -> tuple:
        return self._entry(key)[1]

    def _entry(self, key: str) -> tuple:
        try:
            return self._entries[key]
        except KeyError:
            raise errors.NotFoundError(None, None, "Key %s not found in checkpoint"
                                       % key) from None

    def get_tensor(self, key: str) -> np.ndarray:
        """A fresh, writable array with the stored value of ``key``."""
        dtype, shape, off, n, crc = self._entry(key)
        with open(self._data_path, "rb") as f:
            f.seek(off)
            buf = f.read(n)
        if len(buf) != n:
            raise _data_loss("Checkpoint data file %s is truncated (tensor %s)"
                             % (self._data_path, key))
        if (zlib.crc32(buf) & 0xFFFFFFFF) != crc:
            raise _data_loss("Checksum does not match for tensor %s in %s: the checkpoint "
                             "is corrupt" % (key, self._data_path))
        return np.array(_decode(buf, dtype, shape, key), copy=True)


def checkpoint_files(prefix: str, meta_graph_suffix: str = "meta",
                     temporaries: bool = False) -> list:
    """Existing files of the checkpoint ``prefix`` (index, data shards, meta graph;
    the index first). With ``temporaries``, also the temporary files of saves of
    ``prefix`` that never finished (a killed process leaves them behind)."""
    pattern = glob.escape(prefix)
    out = glob.glob(pattern + INDEX_SUFFIX) + glob.glob(pattern + ".data-?????-of-?????")
    meta = prefix + "." + meta_graph_suffix
    if os.path.exists(meta):
        out.append(meta)
    if temporaries:
        out += glob.glob(pattern + INDEX_SUFFIX + ".tmp*")
        out += glob.glob(pattern + ".data-?????-of-?????.tmp*")
    return out


# --- CheckpointState text ------------------------------------------------------------
class CheckpointState:
    """The ``checkpoint`` file's content (TF's ``CheckpointState`` proto)."""

    def __init__(self, model_checkpoint_path: str = "",
                 all_model_checkpoint_paths: Optional[list] = None) -> None:
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths or [])

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, CheckpointState) and \
            self.model_checkpoint_path == other.model_checkpoint_path and \
            self.all_model_checkpoint_paths == other.all_model_checkpoint_paths

    def __repr__(self) -> str:
        return state_to_text(self)

    def to_text(self) -> str:
        """The ``checkpoint`` file's contents (protobuf text format)."""
        return state_to_text(self)


def _escape(s: str) -> str:
    """Protobuf text-format C escaping of a string (non-ASCII bytes as octal)."""
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c in "\"'\\":
            out.append("\\" + c)
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append("\\%03o" % b)
    return "".join(out)


_SIMPLE_ESCAPES = {"n": 10, "r": 13, "t": 9, "\"": 34, "'": 39, "\\": 92, "a": 7, "b": 8,
                   "f": 12, "v": 11, "?": 63}


def _unescape(s: str) -> str:
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.extend(c.encode("utf-8"))
            i += 1
            continue
        if i + 1 >= len(s):
            raise ValueError("trailing backslash")
        n = s[i + 1]
        if n in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[n])
            i += 2
        elif n in "01234567":
            j = i + 1
            while j < len(s) and j < i + 4 and s[j] in "01234567":
                j += 1
            out.append(int(s[i + 1:j], 8) & 0xFF)
            i = j
        elif n in "xX":
            j = i + 2
            while j < len(s) and j < i + 4 and s[j] in "0123456789abcdefABCDEF":
                j += 1
            if j == i + 2:
                raise ValueError("bad \\x escape")
            out.append(int(s[i + 2:j], 16))
            i = j
        else:
            raise ValueError("unknown escape \\%s" % n)
    return out.decode("utf-8", errors="surrogateescape")


def state_to_text(state: CheckpointState) -> str:
    """The text TF writes for a CheckpointState (``text_format.MessageToString``)."""
    lines = ['model_checkpoint_path: "%s"' % _escape(state.model_checkpoint_path)]
    lines += ['all_model_checkpoint_paths: "%s"' % _escape(p)
              for p in state.all_model_checkpoint_paths]
    return "\n".join(lines) + "\n"


_FIELD = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|'
                    r"'((?:[^'\\]|\\.)*)'|([-+0-9.eE]+))\s*[;,]?")


def parse_state(text: str) -> CheckpointState:
    """Parse CheckpointState text. Raises ValueError on malformed text.

    Unknown numeric fields (TF 2's ``all_model_checkpoint_timestamps`` and
    ``last_preserved_timestamp``) are accepted and ignored.
    """
    state = CheckpointState()
    pos = 0
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith("#")]
    text = "\n".join(lines)
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _FIELD.match(text, pos)
        if m is None:
            raise ValueError("cannot parse checkpoint state near %r" % text[pos:pos + 40])
        field, dq, sq, num = m.groups()
        value = dq if dq is not None else sq
        if field == "model_checkpoint_path" and value is not None:
            state.model_checkpoint_path = _unescape(value)
        elif field == "all_model_checkpoint_paths" and value is not None:
            state.all_model_checkpoint_paths.append(_unescape(value))
        elif field in ("all_model_checkpoint_timestamps", "last_preserved_timestamp") \
                and num is not None:
            pass
        else:
            raise ValueError("unexpected field %r in checkpoint state" % field)
        pos = m.end()
    return state
