"""File formats: GraphDef (``graph_def``), TFRecord framing (``tf_record``),
the protobuf messages they use (``proto``) and checkpoints (``checkpoint``).

``__all__`` lists the names the ``tf``/``tf.io``/``tf.train`` namespaces
re-export from here.
"""
from graphflow.io.graph_def import import_graph_def, read_graph_def, write_graph
from graphflow.io.proto import (AttrValue, Event, GraphDef, HistogramProto, NodeDef, SessionLog,
                                StepStats, Summary, SummaryMetadata, TensorProto,
                                TensorShapeProto, VersionDef)
from graphflow.io.tensor_proto import make_ndarray, make_tensor_proto
from graphflow.io.tf_record import TFRecordWriter, tf_record_iterator

__all__ = ["import_graph_def", "read_graph_def", "write_graph", "AttrValue", "Event",
           "GraphDef", "HistogramProto", "NodeDef", "SessionLog", "StepStats", "Summary",
           "SummaryMetadata", "TensorProto", "TensorShapeProto", "VersionDef",
           "make_ndarray", "make_tensor_proto", "TFRecordWriter", "tf_record_iterator"]
