"""Random bytes and random ``.npy`` headers, under an address-space limit: only the exit codes
DESIGN §5 documents, one ``xent:`` line on an error, nothing on stdout, never a traceback.

The limit is this process's own soft ``RLIMIT_AS`` lowered for the duration of each example
(the current size plus 1 GiB), so a file that talks xent into allocating what it claims fails
here instead of filling the machine.
"""

from __future__ import annotations

import io
import re
import resource
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xent_cli.cli import app

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTED = {0, 2, 65, 66, 71}  # success, usage, data, unreadable, out of memory
runner = CliRunner()
examples = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@contextmanager
def address_space_limit(extra: int = 1 << 30) -> Iterator[None]:
    """The process's address space held to its current size plus ``extra`` bytes."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    match = re.search(r"VmSize:\s+(\d+) kB", status)
    assert match is not None
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = int(match.group(1)) * 1024 + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run(*args: str) -> tuple[int, str, str]:
    with address_space_limit():
        result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: the failure this test looks for
    return result.exit_code, result.stdout, result.stderr


def check(code: int, out: str, err: str) -> None:
    assert code in DOCUMENTED, (code, err)
    if code != 0:
        assert out == ""
        assert err.startswith("xent: ")
        assert err.count("\n") == 1, err  # one line
        assert "Traceback" not in err


@examples
@given(data=st.binary(max_size=2048), suffix=st.sampled_from(["", ".csv", ".npy", ".npz"]))
def test_random_bytes_as_predictions(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"p{suffix}"
    path.write_bytes(data)
    check(*run("compute", str(path), str(ROOT / "samples" / "labels.csv")))
    check(*run("softmax", str(path)))


@examples
@given(data=st.binary(max_size=512))
def test_random_bytes_as_labels(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "y.csv").write_bytes(data)
    check(*run("compute", str(ROOT / "samples" / "logits.csv"), str(tmp_path / "y.csv")))


dimensions = st.integers(min_value=0, max_value=1 << 40)
headers = st.fixed_dictionaries(
    {
        "descr": st.sampled_from(["<f8", "<f4", ">f8", "<f2", "|u1", "<i8", "|b1", "<U4", "|S3"]),
        "fortran_order": st.booleans(),
        "shape": st.lists(dimensions, max_size=3).map(tuple),
    }
)


def npy_image(header: dict[str, object], version: int, payload: bytes) -> bytes:
    """A ``.npy`` with ``header`` (any shape, however large) and ``payload`` as its data."""
    text = repr(header).encode("latin1")
    length = struct.pack("<H" if version == 1 else "<I", len(text) + 1)
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + b"\n" + payload


@examples
@given(
    header=headers,
    version=st.sampled_from([1, 2]),
    payload=st.binary(max_size=256) | st.just(np.arange(48.0).tobytes()),
    archive=st.booleans(),
)
def test_random_npy_headers(
    tmp_path: Path, header: dict[str, object], version: int, payload: bytes, archive: bool
) -> None:
    image = npy_image(header, version, payload)
    if archive:
        buffer = io.BytesIO()
        import zipfile

        with zipfile.ZipFile(buffer, "w") as zipped:
            zipped.writestr("logits.npy", image)
        image, name = buffer.getvalue(), "p.npz"
    else:
        name = "p.npy"
    (tmp_path / name).write_bytes(image)
    check(*run("softmax", str(tmp_path / name)))
    check(*run("compute", str(tmp_path / name), str(ROOT / "samples" / "labels.csv")))
