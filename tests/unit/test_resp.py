"""RESP encoding, checked by redis-py's own parser."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bullmq_codegen.runtime.resp import ScriptCommand, pack

arguments = st.lists(
    st.one_of(st.binary(max_size=50), st.text(max_size=50), st.integers(-(2**63), 2**63 - 1)),
    min_size=1,
    max_size=20,
)


def parse(data: bytes) -> list[bytes]:
    """Parse one RESP array of bulk strings strictly, as Redis reads a command."""
    header, _, rest = data.partition(b"\r\n")
    assert header.startswith(b"*")
    items: list[bytes] = []
    for _ in range(int(header[1:])):
        size_line, _, rest = rest.partition(b"\r\n")
        assert size_line.startswith(b"$")
        size = int(size_line[1:])
        items.append(rest[:size])
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]
    assert rest == b""
    return items


def as_bytes(value: bytes | str | int) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


@given(arguments)
def test_pack_round_trips(values: list[bytes | str | int]) -> None:
    assert parse(pack(*values)) == [as_bytes(value) for value in values]


@given(
    st.lists(st.text(max_size=20), max_size=5),
    st.text(max_size=20),
    st.lists(st.text(max_size=20), max_size=3),
    arguments,
)
def test_script_command_keeps_the_key_layout(
    before: list[str], key: str, after: list[str], args: list[bytes | str | int]
) -> None:
    command = ScriptCommand(
        sha="a" * 40, source="return 1", before=before, varying=True, after=after
    )
    keys = [*before, key, *after]
    expected = [
        b"EVALSHA",
        b"a" * 40,
        str(len(keys)).encode(),
        *(k.encode() for k in keys),
        *(as_bytes(a) for a in args),
    ]
    assert parse(command.packed(key, args)) == expected
