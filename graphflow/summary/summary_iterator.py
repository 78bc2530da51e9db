"""Read event files back (``tf.compat.v1.train.summary_iterator``)."""
from __future__ import annotations

from typing import Any, Iterator

from graphflow import errors
from graphflow.io import proto
from graphflow.io.tf_record import tf_record_iterator

__all__ = ["summary_iterator"]


def summary_iterator(path: str) -> Iterator[Any]:
    """Yield the ``Event`` protos of the event file ``path`` in order.

    A bad checksum or a truncated record raises DataLossError; a record that
    is not an Event raises DataLossError too.
    """
    for i, record in enumerate(tf_record_iterator(path)):
        event = proto.Event()
        try:
            event.ParseFromString(record)
        except proto.DecodeError as e:
            raise errors.DataLossError(None, None, "record %d of %s is not an Event: %s"
                                       % (i, path, e)) from None
        yield event
