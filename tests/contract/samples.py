"""The real recorded samples of shared/realapi, as far as this repository keeps them: the index
(tests/data/realapi/manifest.json, SOURCES.md: route, source, note of each recording) and the
shapes (``real_shapes.SHAPES``: keys and JSON types; the recordings themselves are not
redistributable, see tests/data/README.md), and a field-by-field shape comparison.

``real(file, values)`` rebuilds a sample for a parse test: its full shape with the few real
values the test checks laid over it (written inline in the test, citing the recording).
``shape_diff`` lists where two JSON values differ in shape: a key one side lacks, or a
different JSON type (null, bool, number, string, array, object), walking objects by key and
arrays by their first items. Paths read ``version.number``, ``results[].id``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.contract.real_shapes import SHAPES

REALAPI = Path(__file__).resolve().parents[1] / "data" / "realapi"


@dataclass(frozen=True)
class Sample:
    file: str
    kind: str
    route: str
    flavor: str
    event: str | None
    source: str
    note: str

    def shape(self) -> Any:
        """The recording's shape (keys and JSON types, placeholder values)."""
        return copy.deepcopy(SHAPES[self.file])


@cache
def manifest() -> dict[str, Sample]:
    entries = json.loads((REALAPI / "manifest.json").read_text(encoding="utf-8"))
    return {
        e["file"]: Sample(
            file=e["file"],
            kind=e["kind"],
            route=e["route"],
            flavor=e["flavor"],
            event=e["event"],
            source=e["source"],
            note=e["note"],
        )
        for e in entries
    }


def sample(file: str) -> Sample:
    return manifest()[file]


def real(file: str, values: Any) -> Any:
    """The sample's shape with ``values`` laid over it: objects merge key by key, and each
    item of a list of values is laid over the shape of the sample's array items."""
    return overlay(sample(file).shape(), values)


def overlay(shape: Any, values: Any) -> Any:
    if isinstance(values, dict) and isinstance(shape, dict):
        unknown = set(values) - set(shape)
        assert not unknown, f"keys the recording does not have: {sorted(unknown)}"
        out = dict(shape)
        for key, value in values.items():
            out[key] = overlay(shape.get(key), value)
        return out
    if isinstance(values, list) and isinstance(shape, list):
        item = shape[0] if shape else None
        return [overlay(copy.deepcopy(item), v) for v in values]
    return values


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def shape_diff(real: Any, emulated: Any, path: str = "") -> dict[str, str]:
    """``{path: what differs}`` between the real value and the emulator's, recursively."""
    out: dict[str, str] = {}
    rt, et = json_type(real), json_type(emulated)
    if rt != et:
        out[path or "."] = f"type: real {rt}, emulator {et}"
        return out
    if rt == "object":
        for key in sorted(set(real) | set(emulated)):
            sub = f"{path}.{key}" if path else key
            if key not in emulated:
                out[sub] = "missing in the emulator"
            elif key not in real:
                out[sub] = "only in the emulator"
            else:
                out.update(shape_diff(real[key], emulated[key], sub))
    elif rt == "array" and real and emulated:
        out.update(shape_diff(real[0], emulated[0], f"{path}[]"))
    return out


def assert_same_shape(real: Any, emulated: Any, exceptions: dict[str, str]) -> None:
    """Every difference must be a listed exception (with its reason), and every listed
    exception must still be a difference: a stale one fails too."""
    found = shape_diff(real, emulated)
    unexplained = {p: d for p, d in found.items() if p not in exceptions}
    stale = sorted(set(exceptions) - set(found))
    assert not unexplained, f"shape differences without a documented reason: {unexplained}"
    assert not stale, f"documented exceptions that no longer differ (remove them): {stale}"
