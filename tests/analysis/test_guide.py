"""docs/gating_and_aggregation.md quotes ``graphflow study`` tables: their deterministic
columns must be what ``analysis.compare`` measures now (so the guide's figures are real
output and stay current). Step times, and the exact count of GATE_NONE outcomes (the
parallel executor's interleavings vary), are not compared."""
import os
import re

import pytest

from graphflow import analysis
from graphflow.analysis import models

GUIDE = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "gating_and_aggregation.md")
EXACT = ("ops", "control_edges", "barriers", "critical_path_ops", "parallel_width", "races",
         "peak_bytes", "identical")


def guide_tables():
    with open(GUIDE, encoding="utf-8") as f:
        text = f.read()
    tables = []
    for block in re.findall(r"```text\n(gate .*?)```", text, re.S):
        lines = block.strip().splitlines()
        header = lines[0].split()
        tables.append([dict(zip(header, ln.split())) for ln in lines[2:]])
    return tables


@pytest.mark.parametrize("index,model", [(0, "mlp"), (1, "shared")])
def test_guide_table_is_current(index, model):
    quoted = guide_tables()[index]
    table = analysis.compare(models.MODELS[model], steps=3, timing_steps=0)
    assert len(quoted) == len(table.rows) == 9
    for q, row in zip(quoted, table.rows):
        assert (q["gate"], q["aggregation"]) == (row["gate"], row["aggregation"])
        for col in EXACT:
            v = row[col]
            want = ("yes" if v else "no") if isinstance(v, bool) else str(v)
            assert q[col] == want, (model, row["gate"], row["aggregation"], col)
        if row["races"] == 0:
            assert q["outcomes"] == "1" == str(row["outcomes"])
        assert abs(float(q["loss"]) - row["loss"]) < 1e-3
    # rows the guide shows with equal fingerprints computed equal bits now, and vice versa
    same_quoted = [[a["result"] == b["result"] for b in quoted] for a in quoted]
    same_now = [[a["result"] == b["result"] for b in table.rows] for a in table.rows]
    assert same_quoted == same_now
