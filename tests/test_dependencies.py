"""Every runtime dependency earns its place: pyproject declares only what syncd imports."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Declared although syncd does not import them, and why.
NOT_IMPORTED = {
    "sniffio": "httpcore probes it on every request; without it each request pays a failed import",
    "mdit-py-plugins": "markdown-it-py's plugin set, named by the project's dependency policy; "
    "not used yet (a candidate for removal)",
}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_declared_dependency_is_imported_by_syncd() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {
        _normal(re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0]) for d in project["dependencies"]
    }
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "syncd").rglob("*.py"))
    imported = set(re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", source, re.M))
    provided_by: dict[str, set[str]] = {}
    for module, dists in packages_distributions().items():
        for dist in dists:
            provided_by.setdefault(_normal(dist), set()).add(module)
    unused = sorted(
        d for d in declared - set(NOT_IMPORTED) if not provided_by.get(d, set()) & imported
    )
    assert unused == [], f"declared but never imported by syncd: {unused}"
