"""Property: whatever the cells and line endings, a written CSV reads back the same,
each row at its physical line."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mql.ingest.mapping import Mapping
from mql.ingest.readers import read_source

#: Cells mix the characters exports trip over: delimiters, quotes, line breaks.
CELL = st.text(alphabet='ab ,;"\r\n\t\u00e9\u20ac', max_size=12)
ROW = st.tuples(st.from_regex(r"[a-z]{1,5}", fullmatch=True), CELL, CELL)
#: A line break as universal newlines count it: CRLF, or a lone CR or LF.
BREAK = re.compile(r"\r\n|\r|\n")


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(ROW, min_size=1, max_size=8),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
    # Quoted cells: Python's own writer leaves a lone CR unquoted when the line
    # ending is LF, which every reader then takes for a line end.
    quoting=st.sampled_from([csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
)
def test_cells_and_physical_lines_round_trip(
    rows: list[tuple[str, str, str]], ending: str, delimiter: str, quoting: int
) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer, delimiter=delimiter, lineterminator=ending, quoting=quoting
    )
    writer.writerow(["key", "left", "right"])
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_bytes(buffer.getvalue().encode("utf-8"))
        source = read_source(path, Mapping())

    assert [tuple(r.values.values()) for r in source.rows] == rows
    expected_line, lines = 2, []
    for row in rows:
        lines.append(expected_line)
        expected_line += 1 + sum(len(BREAK.findall(cell)) for cell in row)
    assert [r.line for r in source.rows] == lines
