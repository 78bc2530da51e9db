"""TensorFlow's protobuf messages, declared here in Python (no protoc, no TF files).

The handful of messages graphflow reads and writes (GraphDef and what it
holds, Event/Summary for TensorBoard, RunMetadata/StepStats for traces) are
written below in a small subset of the ``.proto`` language, parsed at import
into one ``FileDescriptorProto`` (``package tensorflow``, proto3, the field
numbers of TensorFlow's own files; see ../shared/spec/formats.md) and turned
into message classes of the ``protobuf`` package in a private descriptor pool.
Because names, numbers and types match, TensorFlow and TensorBoard parse what
these classes serialize, in binary and in text format, and vice versa.

Unused TF fields are left out; their bytes survive a parse/serialize round
trip as unknown fields. ``tests/reference/test_reference_formats.py`` checks
every declared field against TensorFlow's descriptors.
"""
from __future__ import annotations

import re
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.message import DecodeError

__all__ = ["GraphDef", "NodeDef", "AttrValue", "NameAttrList", "TensorProto",
           "TensorShapeProto", "VersionDef", "Event", "Summary", "SummaryMetadata",
           "HistogramProto", "SessionLog", "TaggedRunMetadata", "LogMessage", "RunMetadata",
           "StepStats", "DeviceStepStats", "NodeExecStats", "NodeOutput", "TensorDescription",
           "AllocationDescription", "AllocatorMemoryUsed", "DecodeError", "text_format",
           "parse_text", "message_class"]

_SCHEMA = """
enum DataType {
  DT_INVALID = 0; DT_FLOAT = 1; DT_DOUBLE = 2; DT_INT32 = 3; DT_UINT8 = 4; DT_INT16 = 5;
  DT_INT8 = 6; DT_STRING = 7; DT_COMPLEX64 = 8; DT_INT64 = 9; DT_BOOL = 10; DT_QINT8 = 11;
  DT_QUINT8 = 12; DT_QINT32 = 13; DT_BFLOAT16 = 14; DT_QINT16 = 15; DT_QUINT16 = 16;
  DT_UINT16 = 17; DT_COMPLEX128 = 18; DT_HALF = 19; DT_RESOURCE = 20; DT_VARIANT = 21;
  DT_UINT32 = 22; DT_UINT64 = 23;
  DT_FLOAT_REF = 101; DT_DOUBLE_REF = 102; DT_INT32_REF = 103; DT_UINT8_REF = 104;
  DT_INT16_REF = 105; DT_INT8_REF = 106; DT_STRING_REF = 107; DT_COMPLEX64_REF = 108;
  DT_INT64_REF = 109; DT_BOOL_REF = 110; DT_QINT8_REF = 111; DT_QUINT8_REF = 112;
  DT_QINT32_REF = 113; DT_BFLOAT16_REF = 114; DT_QINT16_REF = 115; DT_QUINT16_REF = 116;
  DT_UINT16_REF = 117; DT_COMPLEX128_REF = 118; DT_HALF_REF = 119; DT_RESOURCE_REF = 120;
  DT_VARIANT_REF = 121; DT_UINT32_REF = 122; DT_UINT64_REF = 123;
}

// graph.proto, node_def.proto, versions.proto
message GraphDef {
  repeated NodeDef node = 1;
  FunctionDefLibrary library = 2;
  int32 version = 3;
  VersionDef versions = 4;
  GraphDebugInfo debug_info = 5;
}
message FunctionDefLibrary { }
message GraphDebugInfo { }
message VersionDef { int32 producer = 1; int32 min_consumer = 2; repeated int32 bad_consumers = 3; }
message NodeDef {
  string name = 1;
  string op = 2;
  repeated string input = 3;
  string device = 4;
  map<string, AttrValue> attr = 5;
  message ExperimentalDebugInfo {
    repeated string original_node_names = 1;
    repeated string original_func_names = 2;
  }
  ExperimentalDebugInfo experimental_debug_info = 6;
  FullTypeDef experimental_type = 7;
}
// full_type.proto: TF >= 2.8 writes it on some nodes (e.g. Shape) in text GraphDefs
message FullTypeDef {
  FullTypeId type_id = 1;
  repeated FullTypeDef args = 2;
  oneof attr { string s = 3; int64 i = 4; }
}
enum FullTypeId {
  TFT_UNSET = 0; TFT_VAR = 1; TFT_ANY = 2; TFT_PRODUCT = 3; TFT_NAMED = 4; TFT_FOR_EACH = 20;
  TFT_CALLABLE = 100; TFT_TENSOR = 1000; TFT_ARRAY = 1001; TFT_OPTIONAL = 1002;
  TFT_LITERAL = 1003; TFT_ENCODED = 1004; TFT_SHAPE_TENSOR = 1005; TFT_BOOL = 200;
  TFT_UINT8 = 201; TFT_UINT16 = 202; TFT_UINT32 = 203; TFT_UINT64 = 204; TFT_INT8 = 205;
  TFT_INT16 = 206; TFT_INT32 = 207; TFT_INT64 = 208; TFT_HALF = 209; TFT_FLOAT = 210;
  TFT_DOUBLE = 211; TFT_BFLOAT16 = 215; TFT_COMPLEX64 = 212; TFT_COMPLEX128 = 213;
  TFT_STRING = 214; TFT_DATASET = 10102; TFT_RAGGED = 10103; TFT_ITERATOR = 10104;
  TFT_MUTEX_LOCK = 10202; TFT_LEGACY_VARIANT = 10203;
}

// attr_value.proto
message AttrValue {
  message ListValue {
    repeated bytes s = 2; repeated int64 i = 3; repeated float f = 4; repeated bool b = 5;
    repeated DataType type = 6; repeated TensorShapeProto shape = 7;
    repeated TensorProto tensor = 8; repeated NameAttrList func = 9;
  }
  oneof value {
    bytes s = 2; int64 i = 3; float f = 4; bool b = 5; DataType type = 6;
    TensorShapeProto shape = 7; TensorProto tensor = 8; ListValue list = 1;
    NameAttrList func = 10; string placeholder = 9;
  }
}
message NameAttrList { string name = 1; map<string, AttrValue> attr = 2; }

// tensor_shape.proto, tensor.proto
message TensorShapeProto {
  message Dim { int64 size = 1; string name = 2; }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}
message TensorProto {
  DataType dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated int32 half_val = 13;
  repeated float float_val = 5;
  repeated double double_val = 6;
  repeated int32 int_val = 7;
  repeated bytes string_val = 8;
  repeated float scomplex_val = 9;
  repeated int64 int64_val = 10;
  repeated bool bool_val = 11;
  repeated double dcomplex_val = 12;
  repeated uint32 uint32_val = 16;
  repeated uint64 uint64_val = 17;
  bytes float8_val = 18;
}

// summary.proto
enum DataClass {
  DATA_CLASS_UNKNOWN = 0; DATA_CLASS_SCALAR = 1; DATA_CLASS_TENSOR = 2;
  DATA_CLASS_BLOB_SEQUENCE = 3;
}
message HistogramProto {
  double min = 1; double max = 2; double num = 3; double sum = 4; double sum_squares = 5;
  repeated double bucket_limit = 6;
  repeated double bucket = 7;
}
message SummaryMetadata {
  message PluginData { string plugin_name = 1; bytes content = 2; }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  DataClass data_class = 4;
}
message Summary {
  message Image {
    int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4;
  }
  message Audio {
    float sample_rate = 1; int64 num_channels = 2; int64 length_frames = 3;
    bytes encoded_audio_string = 4; string content_type = 5;
  }
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2; bytes obsolete_old_style_histogram = 3; Image image = 4;
      HistogramProto histo = 5; Audio audio = 6; TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

// event.proto
message LogMessage {
  enum Level { UNKNOWN = 0; DEBUGGING = 10; INFO = 20; WARN = 30; ERROR = 40; FATAL = 50; }
  Level level = 1;
  string message = 2;
}
message SessionLog {
  enum SessionStatus { STATUS_UNSPECIFIED = 0; START = 1; STOP = 2; CHECKPOINT = 3; }
  SessionStatus status = 1;
  string checkpoint_path = 2;
  string msg = 3;
}
message TaggedRunMetadata { string tag = 1; bytes run_metadata = 2; }
message SourceMetadata { string writer = 1; }
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3; bytes graph_def = 4; Summary summary = 5;
    LogMessage log_message = 6; SessionLog session_log = 7;
    TaggedRunMetadata tagged_run_metadata = 8; bytes meta_graph_def = 9;
  }
  SourceMetadata source_metadata = 10;
}

// step_stats.proto, tensor_description.proto, allocation_description.proto, config.proto
message AllocationDescription {
  int64 requested_bytes = 1; int64 allocated_bytes = 2; string allocator_name = 3;
  int64 allocation_id = 4; bool has_single_reference = 5; uint64 ptr = 6;
}
message TensorDescription {
  DataType dtype = 1; TensorShapeProto shape = 2; AllocationDescription allocation_description = 4;
}
message AllocationRecord { int64 alloc_micros = 1; int64 alloc_bytes = 2; }
message AllocatorMemoryUsed {
  string allocator_name = 1; int64 total_bytes = 2; int64 peak_bytes = 3; int64 live_bytes = 4;
  repeated AllocationRecord allocation_records = 6; int64 allocator_bytes_in_use = 5;
}
message NodeOutput { int32 slot = 1; TensorDescription tensor_description = 3; }
message MemoryStats {
  int64 temp_memory_size = 1; int64 persistent_memory_size = 3;
  repeated int64 persistent_tensor_alloc_ids = 5; int64 device_temp_memory_size = 2;
  int64 device_persistent_memory_size = 4; repeated int64 device_persistent_tensor_alloc_ids = 6;
}
message NodeExecStats {
  string node_name = 1; int64 all_start_micros = 2; int64 op_start_rel_micros = 3;
  int64 op_end_rel_micros = 4; int64 all_end_rel_micros = 5;
  repeated AllocatorMemoryUsed memory = 6; repeated NodeOutput output = 7;
  string timeline_label = 8; int64 scheduled_micros = 9; uint32 thread_id = 10;
  repeated AllocationDescription referenced_tensor = 11; MemoryStats memory_stats = 12;
  int64 all_start_nanos = 13; int64 op_start_rel_nanos = 14; int64 op_end_rel_nanos = 15;
  int64 all_end_rel_nanos = 16; int64 scheduled_nanos = 17;
}
message DeviceStepStats {
  string device = 1;
  repeated NodeExecStats node_stats = 2;
  map<uint32, string> thread_names = 3;
}
message StepStats { repeated DeviceStepStats dev_stats = 1; }
message CostGraphDef { }
message RunMetadata {
  StepStats step_stats = 1;
  CostGraphDef cost_graph = 2;
  repeated GraphDef partition_graphs = 3;
}
"""

_FDP = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "double": _FDP.TYPE_DOUBLE, "float": _FDP.TYPE_FLOAT, "int64": _FDP.TYPE_INT64,
    "uint64": _FDP.TYPE_UINT64, "int32": _FDP.TYPE_INT32, "uint32": _FDP.TYPE_UINT32,
    "bool": _FDP.TYPE_BOOL, "string": _FDP.TYPE_STRING, "bytes": _FDP.TYPE_BYTES,
}
_TOKEN = re.compile(r"//[^\n]*|\s+|(map\s*<\s*\w+\s*,\s*\w+\s*>|[A-Za-z_][\w.]*|-?\d+|[{};=])")
_PACKAGE = "tensorflow"


def _tokens(text: str) -> list:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise SyntaxError("proto schema: unexpected %r" % text[pos:pos + 20])
        if m.group(1):
            out.append(m.group(1))
        pos = m.end()
    return out


class _Parser:
    """Parses the schema subset above: messages, nested messages, enums,
    ``repeated`` fields, ``map<K, V>`` fields and ``oneof`` groups."""

    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.kinds: dict = {}      # full name -> "message" | "enum"
        self.pending: list = []    # (field proto, scope, type name) resolved at the end

    def next(self) -> str:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, tok: str) -> None:
        got = self.next()
        if got != tok:
            raise SyntaxError("proto schema: expected %r, got %r" % (tok, got))

    def file(self) -> descriptor_pb2.FileDescriptorProto:
        fd = descriptor_pb2.FileDescriptorProto(name="graphflow/io/tensorflow.proto",
                                                package=_PACKAGE, syntax="proto3")
        scope = "." + _PACKAGE
        while self.i < len(self.toks):
            kw = self.next()
            if kw == "message":
                self.message(fd.message_type.add(), scope)
            elif kw == "enum":
                self.enum(fd.enum_type.add(), scope)
            else:
                raise SyntaxError("proto schema: unexpected %r" % kw)
        for field, fscope, tname in self.pending:
            full = self.resolve(tname, fscope)
            field.type_name = full
            field.type = _FDP.TYPE_ENUM if self.kinds[full] == "enum" else _FDP.TYPE_MESSAGE
        return fd

    def enum(self, ed: Any, scope: str) -> None:
        ed.name = self.next()
        self.kinds[scope + "." + ed.name] = "enum"
        self.expect("{")
        while True:
            tok = self.next()
            if tok == "}":
                return
            self.expect("=")
            ed.value.add(name=tok, number=int(self.next()))
            self.expect(";")

    def message(self, md: Any, scope: str) -> None:
        md.name = self.next()
        full = scope + "." + md.name
        self.kinds[full] = "message"
        self.expect("{")
        while True:
            tok = self.next()
            if tok == "}":
                return
            if tok == "message":
                self.message(md.nested_type.add(), full)
            elif tok == "enum":
                self.enum(md.enum_type.add(), full)
            elif tok == "oneof":
                index = len(md.oneof_decl)
                md.oneof_decl.add(name=self.next())
                self.expect("{")
                while self.toks[self.i] != "}":
                    self.field(md, full, self.next(), oneof=index)
                self.next()
            else:
                self.field(md, full, tok)

    def field(self, md: Any, scope: str, tok: str, oneof: int = -1) -> None:
        label = _FDP.LABEL_OPTIONAL
        if tok == "repeated":
            label, tok = _FDP.LABEL_REPEATED, self.next()
        name = self.next()
        self.expect("=")
        number = int(self.next())
        self.expect(";")
        f = md.field.add(name=name, number=number, label=label)
        if oneof >= 0:
            f.oneof_index = oneof
        if tok.startswith("map"):
            key, value = re.findall(r"\w+", tok)[1:]
            entry = md.nested_type.add(name="".join(p.title() for p in name.split("_"))
                                       + "Entry")
            entry.options.map_entry = True
            self.kinds[scope + "." + entry.name] = "message"
            self._typed(entry.field.add(name="key", number=1, label=_FDP.LABEL_OPTIONAL),
                        key, scope)
            self._typed(entry.field.add(name="value", number=2, label=_FDP.LABEL_OPTIONAL),
                        value, scope)
            f.label = _FDP.LABEL_REPEATED
            tok = entry.name
        self._typed(f, tok, scope)

    def _typed(self, f: Any, tname: str, scope: str) -> None:
        if tname in _SCALARS:
            f.type = _SCALARS[tname]
        else:
            self.pending.append((f, scope, tname))

    def resolve(self, tname: str, scope: str) -> str:
        """Look ``tname`` up from the innermost scope outwards (protobuf's rule)."""
        while scope:
            cand = scope + "." + tname
            if cand in self.kinds:
                return cand
            scope = scope.rpartition(".")[0]
        raise SyntaxError("proto schema: unknown type %r" % tname)


FILE_DESCRIPTOR = _Parser(_SCHEMA).file()
_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(FILE_DESCRIPTOR)


def message_class(name: str) -> type:
    """The message class of ``tensorflow.<name>`` (nested names with dots)."""
    desc = _POOL.FindMessageTypeByName(_PACKAGE + "." + name)
    get = getattr(message_factory, "GetMessageClass", None)
    if get is not None:
        return get(desc)
    return message_factory.MessageFactory(_POOL).GetPrototype(desc)  # protobuf < 4.22


GraphDef = message_class("GraphDef")
NodeDef = message_class("NodeDef")
AttrValue = message_class("AttrValue")
NameAttrList = message_class("NameAttrList")
TensorProto = message_class("TensorProto")
TensorShapeProto = message_class("TensorShapeProto")
VersionDef = message_class("VersionDef")
Event = message_class("Event")
Summary = message_class("Summary")
SummaryMetadata = message_class("SummaryMetadata")
HistogramProto = message_class("HistogramProto")
SessionLog = message_class("SessionLog")
TaggedRunMetadata = message_class("TaggedRunMetadata")
LogMessage = message_class("LogMessage")
RunMetadata = message_class("RunMetadata")
StepStats = message_class("StepStats")
DeviceStepStats = message_class("DeviceStepStats")
NodeExecStats = message_class("NodeExecStats")
NodeOutput = message_class("NodeOutput")
TensorDescription = message_class("TensorDescription")
AllocationDescription = message_class("AllocationDescription")
AllocatorMemoryUsed = message_class("AllocatorMemoryUsed")

DATA_TYPE = _POOL.FindEnumTypeByName(_PACKAGE + ".DataType")


def parse_text(text: Any, message: Any) -> Any:
    """Parse protobuf text format into ``message`` (ValueError on bad text)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        return text_format.Parse(text, message)
    except text_format.ParseError as e:
        raise ValueError("Cannot parse %s text: %s" % (type(message).__name__, e)) from None
