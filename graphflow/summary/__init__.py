"""The ``tf.summary`` namespace (TF1): summary ops, FileWriter and the protos.

Re-exports only; each name lives in the module that defines it.
"""
from graphflow.io.proto import (Event, HistogramProto, SessionLog, Summary, SummaryMetadata,
                                TaggedRunMetadata)
from graphflow.summary.summary_iterator import summary_iterator
from graphflow.summary.summary_ops import (histogram, merge, merge_all, scalar, tensor_summary,
                                           text)
from graphflow.summary.writer import FileWriter, FileWriterCache

__all__ = ["Event", "HistogramProto", "SessionLog", "Summary", "SummaryMetadata",
           "TaggedRunMetadata", "FileWriter", "FileWriterCache", "histogram", "merge",
           "merge_all", "scalar", "tensor_summary", "text", "summary_iterator"]
