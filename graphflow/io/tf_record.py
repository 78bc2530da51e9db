"""TFRecord framing: the record format of TensorBoard event files.

A file is a sequence of records, each::

    uint64 length (little-endian) | uint32 masked_crc32c(length bytes)
    data (length bytes)           | uint32 masked_crc32c(data)

with CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) masked as
``((c >> 15 | c << 17) + 0xA282EAD8) mod 2**32`` (formats.md §b). The reader
raises ``errors.DataLossError`` on a bad checksum or a truncated record, as
``tf.compat.v1.io.tf_record_iterator`` does.
"""
from __future__ import annotations

import os
import struct
from typing import Any, BinaryIO, Iterator, Optional

from graphflow import errors

__all__ = ["crc32c", "masked_crc32c", "unmask_crc32c", "encode_record", "read_records",
           "scan_tail", "tf_record_iterator", "TFRecordWriter"]

_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF
_LONG = 256  # payloads from this size use the Numba kernel (~100x faster than the loop)


def _make_table() -> list:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()
_NP_TABLE: Any = None


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (``crc32c(b"123456789") == 0xE3069283``)."""
    if len(data) >= _LONG:
        return _crc32c_long(data)
    c = _U32
    table = _TABLE
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ _U32


def _crc32c_long(data: bytes) -> int:
    global _NP_TABLE
    import numpy as np
    from graphflow.kernels import crc_kernels
    if _NP_TABLE is None:
        _NP_TABLE = crc_kernels.make_table()
    arr = np.frombuffer(bytes(data), dtype=np.uint8)
    return int(crc_kernels.crc32c_update(_NP_TABLE, arr, _U32)) ^ _U32


def masked_crc32c(data: bytes) -> int:
    """The masked CRC stored in TFRecord headers and footers."""
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + _MASK_DELTA) & _U32


def unmask_crc32c(masked: int) -> int:
    rot = (masked - _MASK_DELTA) & _U32
    return ((rot >> 17) | (rot << 15)) & _U32


def encode_record(data: bytes) -> bytes:
    """One framed record holding ``data``."""
    header = struct.pack("<Q", len(data))
    return b"".join((header, struct.pack("<I", masked_crc32c(header)), data,
                     struct.pack("<I", masked_crc32c(data))))


def _data_loss(msg: str) -> errors.DataLossError:
    return errors.DataLossError(None, None, msg)


def read_records(f: BinaryIO, name: str = "<stream>") -> Iterator[bytes]:
    """Yield the payloads of the records in the open binary file ``f``.

    Stops at a clean end of file; a partial header, a short payload or a
    checksum mismatch raises DataLossError naming the byte offset.
    """
    offset = 0
    while True:
        header = f.read(12)
        if not header:
            return
        if len(header) < 12:
            raise _data_loss("truncated record at %d in %s (%d of 12 header bytes)"
                             % (offset, name, len(header)))
        length_bytes = header[:8]
        (length,) = struct.unpack("<Q", length_bytes)
        (want,) = struct.unpack("<I", header[8:])
        if masked_crc32c(length_bytes) != want:
            raise _data_loss("corrupted record at %d in %s: length checksum mismatch"
                             % (offset, name))
        body = f.read(length + 4) if length < (1 << 40) else b""
        if len(body) < length + 4:
            raise _data_loss("truncated record at %d in %s: expected %d data bytes, found %d"
                             % (offset, name, length + 4, len(body)))
        data = body[:length]
        (want,) = struct.unpack("<I", body[length:])
        if masked_crc32c(data) != want:
            raise _data_loss("corrupted record at %d in %s: data checksum mismatch"
                             % (offset, name))
        yield data
        offset += 12 + length + 4


def scan_tail(f: BinaryIO) -> tuple:
    """``(end, state)`` of the open binary file ``f`` from its record headers.

    ``end`` is the offset just after the last complete record; ``state`` is
    ``"clean"`` (the file ends there), ``"torn"`` (what follows is a strict
    prefix of a record, as a writer killed mid-record leaves, or only zero
    bytes, as a lost write leaves) or ``"corrupt"`` (a bad length checksum
    followed by other data). Only headers are read (payloads are skipped).
    """
    size = os.fstat(f.fileno()).st_size
    pos = 0
    while pos < size:
        f.seek(pos)
        header = f.read(12)
        if len(header) < 12:
            return pos, "torn"
        (length,) = struct.unpack("<Q", header[:8])
        (want,) = struct.unpack("<I", header[8:])
        if masked_crc32c(header[:8]) != want:
            return pos, "torn" if _all_zero(f, pos, size) else "corrupt"
        if pos + 16 + length > size:
            return pos, "torn"
        pos += 16 + length
    return pos, "clean"


def _all_zero(f: BinaryIO, start: int, end: int) -> bool:
    f.seek(start)
    while start < end:
        chunk = f.read(min(1 << 20, end - start))
        if not chunk or chunk.count(0) != len(chunk):
            return False
        start += len(chunk)
    return True


def tf_record_iterator(path: str, options: Any = None) -> Iterator[bytes]:
    """Iterate the records of the TFRecord file ``path`` (``tf.io.tf_record_iterator``).

    Only uncompressed files are read (``options`` must be None or name no
    compression). A missing file raises NotFoundError.
    """
    if options not in (None, "", "NONE") and getattr(options, "compression_type", 0) not in (
            0, None, "", "NONE"):
        raise errors.UnimplementedError(None, None, "compressed TFRecord files are not "
                                                    "supported")
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, "%s; No such file or directory" % path) from None
    with f:
        yield from read_records(f, path)


class TFRecordWriter:
    """Append framed records to a file (``tf.io.TFRecordWriter``, no compression)."""

    def __init__(self, path: str, options: Any = None, mode: str = "wb") -> None:
        self._path = path
        self._f: Optional[BinaryIO] = open(path, mode)

    def write(self, record: bytes) -> None:
        """Append one record (bytes; a str is UTF-8 encoded) with its length and CRCs."""
        if self._f is None:
            raise errors.FailedPreconditionError(None, None, "Writer is closed.")
        if isinstance(record, str):
            record = record.encode("utf-8")
        self._f.write(encode_record(bytes(record)))

    def flush(self) -> None:
        """Flush buffered records to the file."""
        if self._f is not None:
            self._f.flush()

    def sync(self) -> None:
        """Flush and fsync to disk."""
        if self._f is not None:
            self._f.flush()
            os.fsync(self._f.fileno())

    def close(self) -> None:
        """Close the file; later writes raise ``FailedPreconditionError``."""
        if self._f is not None:
            self._f.close()
            self._f = None

    def __enter__(self) -> "TFRecordWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
