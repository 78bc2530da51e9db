"""TFRecord framing: CRC-32C check value and masking (spec formats.md §b),
round trips, and DataLossError on every kind of damage."""
import struct

import numpy as np
import pytest

from graphflow import errors
from graphflow.io import tf_record
from graphflow.io.tf_record import (TFRecordWriter, crc32c, encode_record, masked_crc32c,
                                    tf_record_iterator, unmask_crc32c)


def _bitwise_crc32c(data: bytes) -> int:
    """Bit-at-a-time CRC-32C straight from the definition (independent of the table)."""
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF


def test_crc32c_check_value():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


@pytest.mark.parametrize("n", [1, 7, 100, 4096])
def test_crc32c_matches_definition(n):
    data = np.random.default_rng(n).integers(0, 256, size=n, dtype=np.uint8).tobytes()
    assert crc32c(data) == _bitwise_crc32c(data)


def test_long_payload_kernel_matches_table_loop():
    data = np.random.default_rng(1).integers(0, 256, size=tf_record._LONG + 123,
                                             dtype=np.uint8).tobytes()
    table = tf_record._TABLE
    c = 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    assert crc32c(data) == c ^ 0xFFFFFFFF


def test_mask_formula_and_unmask():
    for data in (b"", b"abc", b"123456789"):
        c = crc32c(data)
        want = ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF
        assert masked_crc32c(data) == want
        assert unmask_crc32c(masked_crc32c(data)) == c


def test_record_layout():
    rec = encode_record(b"hello")
    assert len(rec) == 8 + 4 + 5 + 4
    assert struct.unpack("<Q", rec[:8]) == (5,)
    assert struct.unpack("<I", rec[8:12]) == (masked_crc32c(rec[:8]),)
    assert rec[12:17] == b"hello"
    assert struct.unpack("<I", rec[17:]) == (masked_crc32c(b"hello"),)


def test_writer_and_iterator_round_trip(tmp_path):
    path = str(tmp_path / "r.tfrecord")
    payloads = [b"", b"a", b"x" * 1000, bytes(range(256))]
    with TFRecordWriter(path) as w:
        for p in payloads:
            w.write(p)
    assert list(tf_record_iterator(path)) == payloads


def _good_file(tmp_path):
    path = tmp_path / "good"
    path.write_bytes(encode_record(b"first record") + encode_record(b"second"))
    return path


def _damage(kind, data):
    b = bytearray(data)
    if kind == "flip-length":
        b[0] ^= 1
    elif kind == "flip-length-crc":
        b[9] ^= 0x40
    elif kind == "flip-data":
        b[14] ^= 0x01
    elif kind == "flip-data-crc":
        b[8 + 4 + 12] ^= 0xFF
    elif kind == "truncate-header":
        b = b[:len(encode_record(b"first record")) + 5]
    elif kind == "truncate-data":
        b = b[:-6]
    elif kind == "truncate-footer":
        b = b[:-1]
    elif kind == "garbage-tail":
        b += b"\x01\x02\x03"
    elif kind == "huge-length":
        b[:12] = struct.pack("<Q", 1 << 62) + struct.pack("<I", masked_crc32c(
            struct.pack("<Q", 1 << 62)))
    return bytes(b)


@pytest.mark.parametrize("kind", ["flip-length", "flip-length-crc", "flip-data",
                                  "flip-data-crc", "truncate-header", "truncate-data",
                                  "truncate-footer", "garbage-tail", "huge-length"])
def test_damaged_files_raise_data_loss(tmp_path, kind):
    good = _good_file(tmp_path)
    bad = tmp_path / "bad"
    bad.write_bytes(_damage(kind, good.read_bytes()))
    with pytest.raises(errors.DataLossError) as info:
        list(tf_record_iterator(str(bad)))
    assert "record" in str(info.value) and str(bad) in str(info.value)


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(errors.NotFoundError):
        list(tf_record_iterator(str(tmp_path / "nope")))


def test_empty_file_has_no_records(tmp_path):
    p = tmp_path / "empty"
    p.write_bytes(b"")
    assert list(tf_record_iterator(str(p))) == []
