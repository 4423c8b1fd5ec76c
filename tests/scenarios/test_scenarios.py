"""Every scenario in cases/ as one test (see runner.py for the format)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from .runner import run_scenario

CASES = Path(__file__).parent / "cases"
if str(CASES) not in sys.path:
    sys.path.insert(0, str(CASES))  # cases share starting spaces via _pages.py


def load_cases() -> list[dict]:
    out = []
    for path in sorted(CASES.glob("*.py")):
        if path.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"scenario_case_{path.stem}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        scenario = module.SCENARIO
        scenario.setdefault("name", path.stem)
        out.append(scenario)
    return out


def params() -> list:
    out = []
    for s in load_cases():
        marks = []
        if s.get("xfail"):
            marks.append(pytest.mark.xfail(strict=True, reason=s["xfail"]))
        if s.get("slow"):
            marks.append(pytest.mark.slow)
        if s.get("needs") is not None and not Path(s["needs"]).exists():
            marks.append(pytest.mark.skip(reason=f"reference material not found: {s['needs']}"))
        for flavor in s.get("flavors", [s.get("flavor", "cloud")]):
            name = s["name"] if "flavors" not in s else f"{s['name']}-{flavor}"
            out.append(pytest.param({**s, "flavor": flavor}, id=name, marks=marks))
    return out


@pytest.mark.parametrize("scenario", params())
async def test_scenario(scenario: dict, tmp_path: Path) -> None:
    await run_scenario(scenario, tmp_path)
