"""CRC-32C (Castagnoli) over a uint8 array, for large TFRecord payloads.

``graphflow.io.tf_record`` uses a pure-Python table loop for short records
and this kernel for long ones (a big GraphDef event).
"""
from __future__ import annotations

import numpy as np
from numba import njit


def make_table() -> np.ndarray:
    """The 256-entry table of the reflected polynomial 0x82F63B78."""
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table[i] = c
    return table


@njit(cache=True, nogil=True, error_model="numpy")
def crc32c_update(table, data, crc):  # pragma: no cover - compiled
    """Continue a CRC-32C ``crc`` (pre-inverted state) over ``data``."""
    c = np.uint32(crc)
    for k in range(data.shape[0]):
        c = table[(c ^ data[k]) & np.uint32(0xFF)] ^ (c >> np.uint32(8))
    return c
