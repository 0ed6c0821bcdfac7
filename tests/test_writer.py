"""The one writer: every delimited line quoted as RFC 4180 requires, checked with Python's csv
module; awkward class names round-trip through compute's CSV and through softmax | compute -."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from xent_cli.cli import app
from xent_cli.options import Format
from xent_cli.writer import Categories, Floats, Frame, Integers, Values, delimited, quote

from . import reference as ref

runner = CliRunner()
AWKWARD = ["a,b", 'say "hi"', "two\nlines", " leading space", "tab\there", "plain"]
SCORES = [[0.5, 1.5, 0.1, 2.0, -1.0, 0.3], [2.2, 1.3, 1.7, -0.5, 0.0, 1.0]]
TARGETS = [0, 3]  # "a,b" and " leading space"

# text of every kind a field can hold: the delimiters, quotes, line breaks, blanks, unicode
field_text = st.text(alphabet=st.sampled_from(list(',\t"\n\r ab;é∞')), max_size=8)


def parsed(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


@given(st.lists(st.lists(field_text, min_size=2, max_size=2), min_size=1, max_size=5))
def test_every_field_survives_pythons_csv_reader(rows: list[list[str]]) -> None:
    for delimiter in (",", "\t"):
        columns = [Values(f"c{j}", [row[j] for row in rows]) for j in range(2)]
        text = delimited(Frame(columns), delimiter)
        assert parsed(text, delimiter) == [["c0", "c1"], *rows]


@given(st.lists(field_text, min_size=1, max_size=5))
def test_a_lone_column_survives_too_even_when_empty(cells: list[str]) -> None:
    text = delimited(Frame([Values("only", cells)], header=False), ",")
    assert parsed(text, ",") == [[cell] for cell in cells]


@pytest.mark.parametrize(
    ("field", "expected"),
    [("a,b", '"a,b"'), ('a"b', '"a""b"'), ("x\ny", '"x\ny"'), (" a", '" a"'), ("cat", "cat")],
)
def test_quote_as_rfc_4180(field: str, expected: str) -> None:
    assert quote(field, ",") == expected


def test_fast_columns_are_exact_and_named_once() -> None:
    values = np.array([0.1, 1 / 3, 1e-300, math.inf])
    texts = Floats("loss", values).texts(",")
    assert [float(t) for t in texts] == values.tolist()  # repr round-trips every float64
    assert Floats("loss", values).values()[-1] is None  # JSON has no Infinity
    assert Integers("row", np.arange(3)).texts(",") == ["0", "1", "2"]
    column = Categories("target", np.array([1, 0, -100]), ["a,b", "c"])
    assert column.texts(",") == ["c", '"a,b"', "-100"]
    assert column.texts("\t") == ["c", "a,b", "-100"]


# Text fields quoted (QUOTE_NONNUMERIC): xent strips blanks around unquoted fields, as a
# person writing "cat, dog" means, and keeps what stands inside quotes.


def labels_csv(path: Path, indices: list[int]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
        writer.writerows([[AWKWARD[i]] for i in indices])
    return path


def scores_csv(path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(AWKWARD)
        writer.writerows(SCORES)
    return path


def true_losses() -> list[float]:
    return [float(ref.sparse_softmax_ce(z, c)) for z, c in zip(SCORES, TARGETS, strict=True)]


def check_rows(text: str) -> None:
    """compute's CSV: the awkward names come back whole, the losses are the true ones."""
    rows = parsed(text, ",")
    assert rows[0] == ["row", "loss", "predicted", "target"]
    assert [row[3] for row in rows[1:]] == [AWKWARD[c] for c in TARGETS]
    assert [row[2] for row in rows[1:]] == [AWKWARD[int(np.argmax(z))] for z in SCORES]
    for row, true in zip(rows[1:], true_losses(), strict=True):
        assert ref.relative_error(float(row[1]), true) <= 1e-12


def test_regression_class_named_a_comma_b_in_compute_csv(tmp_path: Path) -> None:
    """A class named ``a,b`` gave ``0,1.479…,c,a,b``: five fields under a four-field header."""
    scores, labels = scores_csv(tmp_path / "z.csv"), labels_csv(tmp_path / "y.csv", TARGETS)
    result = runner.invoke(app, ["compute", str(scores), str(labels)])
    assert result.exit_code == 0, result.stderr
    check_rows(result.stdout)
    jsonl = [
        json.loads(line)
        for line in runner.invoke(
            app, ["compute", str(scores), str(labels), "-f", "jsonl"]
        ).stdout.splitlines()
    ]
    assert [item["target"] for item in jsonl] == [AWKWARD[c] for c in TARGETS]
    confusion = parsed(
        runner.invoke(app, ["compute", str(scores), str(labels), "--confusion"]).stdout, ","
    )
    assert confusion[0] == ["target", *AWKWARD]
    assert [row[0] for row in confusion[1:]] == AWKWARD


def test_regression_softmax_header_has_as_many_fields_as_columns(tmp_path: Path) -> None:
    """softmax wrote a header of 4 fields over 3 columns for a class named ``a,b``."""
    scores = scores_csv(tmp_path / "z.csv")
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        rows = parsed(runner.invoke(app, ["softmax", str(scores), "-f", fmt]).stdout, delimiter)
        assert rows[0] == AWKWARD
        assert all(len(row) == len(AWKWARD) for row in rows)
        for row, z in zip(rows[1:], SCORES, strict=True):
            expected = np.exp(np.array(z) - max(z)) / np.exp(np.array(z) - max(z)).sum()
            np.testing.assert_allclose([float(v) for v in row], expected, rtol=1e-14)
    argmax = parsed(runner.invoke(app, ["softmax", str(scores), "--argmax"]).stdout, ",")
    assert argmax == [[AWKWARD[int(np.argmax(z))]] for z in SCORES]


def test_softmax_pipes_into_compute_with_awkward_names(tmp_path: Path) -> None:
    """The round trip through a real pipe: softmax's CSV header names the classes for compute."""
    scores, labels = scores_csv(tmp_path / "z.csv"), labels_csv(tmp_path / "y.csv", TARGETS)
    xent = [sys.executable, "-m", "xent_cli"]
    softmax = subprocess.Popen([*xent, "softmax", str(scores)], stdout=subprocess.PIPE)
    done = subprocess.run(
        [*xent, "compute", "-", str(labels)],
        stdin=softmax.stdout,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert softmax.stdout is not None
    softmax.stdout.close()
    assert softmax.wait() == 0
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    check_rows(done.stdout)


def test_quoted_fields_keep_their_blanks_and_may_span_lines(tmp_path: Path) -> None:
    (tmp_path / "z.csv").write_text('"x\ny", b ," c"\n1,2,3\n', encoding="utf-8")
    (tmp_path / "y.csv").write_text('" c"\n', encoding="utf-8")
    out = runner.invoke(app, ["compute", str(tmp_path / "z.csv"), str(tmp_path / "y.csv")])
    assert out.exit_code == 0, out.stderr
    rows = parsed(out.stdout, ",")
    assert rows[1][2:] == [" c", " c"]
    assert ref.relative_error(float(rows[1][1]), ref.sparse_softmax_ce([1, 2, 3], 2)) <= 1e-12
    header = parsed(runner.invoke(app, ["softmax", str(tmp_path / "z.csv")]).stdout, ",")[0]
    assert header == ["x\ny", "b", " c"]


def test_every_machine_format_of_every_command_goes_through_one_writer() -> None:
    """The formats the CLI offers are exactly the writer's (plus auto and table)."""
    from xent_cli.writer import DELIMITERS

    assert set(Format) == {Format.auto, Format.table, Format.json, Format.jsonl, *DELIMITERS}


def test_class_names_that_look_like_rich_markup_are_shown_as_written(tmp_path: Path) -> None:
    (tmp_path / "z.csv").write_text("[bold]x,[red]y\n1,2\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("[red]y\n", encoding="utf-8")
    table = runner.invoke(app, ["softmax", str(tmp_path / "z.csv"), "-f", "table"]).stdout
    assert "[bold]x" in table
    assert table.count("[red]y") == 2  # the column and the argmax
    args = ["compute", str(tmp_path / "z.csv"), str(tmp_path / "y.csv"), "-f", "table"]
    computed = runner.invoke(app, [*args, "--confusion"]).stdout
    assert computed.count("[red]y") >= 4  # predicted, target, confusion row and column


def test_regression_a_huge_ignored_label_does_not_build_a_huge_lookup(tmp_path: Path) -> None:
    """An ignored label of 10⁸ made the writer build a list of 10⁸ texts (3.8 GB)."""
    (tmp_path / "z.csv").write_text("1,2,3\n2,1,0\n0,0,1\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("1\n100000000\n2\n", encoding="utf-8")
    inputs = [str(tmp_path / "z.csv"), str(tmp_path / "y.csv"), "--ignore-index", "100000000"]
    done = subprocess.run(
        ["prlimit", "--as=1500000000", sys.executable, "-m", "xent_cli", "compute", *inputs],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = parsed(done.stdout, ",")
    assert [row[3] for row in rows[1:]] == ["1", "100000000", "2"]
    assert rows[2][1] == "0.0"  # an ignored row gives 0
    assert ref.relative_error(float(rows[1][1]), ref.sparse_softmax_ce([1, 2, 3], 1)) <= 1e-12


def xent(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xent_cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def test_regression_a_quote_inside_an_unquoted_field_is_a_character(tmp_path: Path) -> None:
    """An inch mark (``13"``) is not a quoted field: it must not join the next lines."""
    (tmp_path / "z.csv").write_text('13",15",17"\n0.5,1.5,0.1\n2.2,1.3,1.7\n', encoding="utf-8")
    (tmp_path / "y.csv").write_text('15"\n17"\n', encoding="utf-8")
    done = xent("compute", str(tmp_path / "z.csv"), str(tmp_path / "y.csv"))
    assert done.returncode == 0, done.stderr
    rows = parsed(done.stdout, ",")
    assert [row[3] for row in rows[1:]] == ['15"', '17"']
    assert ref.relative_error(float(rows[2][1]), ref.sparse_softmax_ce([2.2, 1.3, 1.7], 2)) < 1e-12


@pytest.mark.parametrize(
    ("header", "fmt"),
    [('"a,b","c,d",e', "tsv"), ("a\tb\tc\td,x,y", "csv")],
)
def test_names_holding_the_other_delimiter_pipe_through(
    tmp_path: Path, header: str, fmt: str
) -> None:
    """On stdin the delimiter is sniffed: the names' commas (in TSV) or tabs (in CSV) must
    not decide it; the next line does."""
    (tmp_path / "z.csv").write_text(header + "\n0.5,1.5,0.1\n2.2,1.3,1.7\n", encoding="utf-8")
    names = parsed(header + "\n", ",")[0]
    (tmp_path / "y.csv").write_text(f'"{names[1]}"\n{names[2]}\n', encoding="utf-8")
    matrix = xent("softmax", str(tmp_path / "z.csv"), "-f", fmt)
    assert matrix.returncode == 0, matrix.stderr
    done = xent("compute", "-", str(tmp_path / "y.csv"), stdin=matrix.stdout)
    assert done.returncode == 0, done.stderr
    assert [row[3] for row in parsed(done.stdout, ",")[1:]] == [names[1], names[2]]


@pytest.mark.parametrize(
    ("text", "where"),
    [('x\n"unterminated\n1\n', "<stdin>:2:1"), ('"a\n', "<stdin>:1:1")],
)
def test_a_quote_never_closed_is_named_where_it_opens(text: str, where: str) -> None:
    done = xent("softmax", "-", stdin=text)
    assert done.returncode == 65
    assert done.stdout == ""
    assert (
        done.stderr
        == f'xent: {where}: a quoted field starts on this line and is never closed (no closing ")\n'
    )


def test_positions_after_records_that_span_lines(tmp_path: Path) -> None:
    (tmp_path / "z.csv").write_text('a,"multi\nline"\n1,2\n3,4\n', encoding="utf-8")
    (tmp_path / "y.csv").write_text('"multi\nline"\n', encoding="utf-8")
    short = xent("compute", str(tmp_path / "z.csv"), str(tmp_path / "y.csv"))
    assert short.stderr.startswith(f"xent: {tmp_path / 'y.csv'}:3:1: labels end after 1 row")
    (tmp_path / "y.csv").write_text("zzz\n", encoding="utf-8")
    unknown = xent("compute", str(tmp_path / "z.csv"), str(tmp_path / "y.csv"))
    assert unknown.stderr.endswith("the classes are: a, 'multi\\nline'\n")
    assert unknown.stderr.count("\n") == 1  # one line


@given(
    st.lists(
        st.tuples(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-200, 5),
            st.sampled_from([*AWKWARD, "é∞", "%s", 'q"']),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_jsonl_lines_are_json_dumps_of_each_record(cells: list[tuple[float, int, str]]) -> None:
    """The column-at-a-time JSONL writer gives json.dumps's bytes for every row."""
    names = sorted({text for _, _, text in cells})
    frame = Frame(
        [
            Floats("loss", [c[0] for c in cells]),
            Integers("row %s", [c[1] for c in cells]),
            Categories("target", [c[1] for c in cells], names),
            Categories('"name"', [names.index(c[2]) for c in cells], names),
        ]
    )
    expected = [json.dumps(record, ensure_ascii=False) for record in frame.records()]
    assert frame.json_lines() == expected
    assert all(r["loss"] is None or math.isfinite(r["loss"]) for r in map(json.loads, expected))


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json"])
@pytest.mark.parametrize(
    "args",
    [
        ["compute", "samples/scores.csv", "samples/labels.csv"],
        ["compute", "samples/tags_logits.csv", "samples/tags_labels.csv", "--top", "3"],
        ["softmax", "samples/scores.csv"],
        ["softmax", "samples/scores.csv", "--argmax"],
        ["explain"],
    ],
)
def test_output_written_in_chunks_is_the_output_written_whole(
    monkeypatch: pytest.MonkeyPatch, fmt: str, args: list[str]
) -> None:
    """Large outputs are formatted a chunk of rows at a time: the bytes must not depend on
    where the chunks end (one row, two rows, all rows)."""
    from xent_cli import writer

    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    outputs = []
    for rows in (1, 2, 1 << 16):
        monkeypatch.setattr(writer, "CHUNK_ROWS", rows)
        result = runner.invoke(app, [*args, "-f", fmt])
        assert result.exit_code == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    if fmt == "csv":
        assert len(parsed(outputs[0], ",")) == len(outputs[0].splitlines())  # one line a row
