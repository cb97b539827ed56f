"""Issue 26, item 2: a notebook never blocks the kernel in the cell right after a widget whose
buttons it documents (Stop, Cancel), so a reader who runs it cell by cell can use them. The
buttons work while a cell blocks too (tests/browser), but the notebooks do not lean on that."""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
WIDGET = re.compile(r"\btf\.(Playground|BatchMonitor|TrainingMonitor)\(")
# the calls that hold the kernel until a job or an answer ends (pg.wait() only awaits the
# model list; send(..., wait=False) returns at once)
BLOCKING = re.compile(
    r"\bjob\w*\.wait\(|\.adapters\.wait\(|\.batches\.wait\(|\.send\((?![^)]*wait=False)"
)


def code_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def test_the_patterns_see_what_the_notebooks_did_before():
    assert BLOCKING.search("job.wait(poll_interval=0.5)")
    assert BLOCKING.search('adapter = client.adapters.wait("pirate-v1")')
    assert BLOCKING.search('answer = pg.send("What is the capital of France?")')
    assert not BLOCKING.search('pg.send("Write a poem.", wait=False)')
    assert not BLOCKING.search("pg.wait()  # the model list")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_blocking_call_right_after_a_widget(path):
    cells = code_cells(path)
    for widget_cell, after in pairwise(cells):
        if WIDGET.search(widget_cell):
            assert not BLOCKING.search(after), f"{path.name}: {after.splitlines()[0]!r}"


def test_the_notebooks_with_buttons_are_checked():
    with_widgets = {p.name[:2] for p in NOTEBOOKS if any(WIDGET.search(c) for c in code_cells(p))}
    assert {"02", "07", "08"} <= with_widgets
