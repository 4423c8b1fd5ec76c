"""Storage-format normalisation, the way Confluence rewrites bodies on save.

Confluence gives every ``ac:structured-macro`` an ``ac:macro-id`` and every ``ac:task`` an
``ac:task-id`` when the page is stored, so what a client PUTs is not byte-identical to what it
GETs back. Only those two rewrites are made; every other byte is left as it was, and CDATA
sections (code blocks may quote storage markup) are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.S)
_MACRO = re.compile(r"<ac:structured-macro\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(\s*/?)>")
_TASK = re.compile(r"<ac:task>(?!\s*<ac:task-id>)")
_TASK_ID = re.compile(r"<ac:task-id>\s*(\d+)\s*</ac:task-id>")


def normalize_storage(body: str, new_macro_id: Callable[[], str]) -> str:
    """Add missing macro ids (from ``new_macro_id``) and task ids (max existing + 1...)."""
    if "<ac:structured-macro" not in body and "<ac:task>" not in body:
        return body
    parts = _split_cdata(body)
    next_task = [max((int(m) for m in _TASK_ID.findall(body)), default=0) + 1]

    def add_macro_id(m: re.Match[str]) -> str:
        attrs = m.group(1)
        if "ac:macro-id=" in attrs:
            return m.group(0)
        return f'<ac:structured-macro{attrs} ac:macro-id="{new_macro_id()}"{m.group(2)}>'

    def add_task_id(_m: re.Match[str]) -> str:
        task_id = next_task[0]
        next_task[0] += 1
        return f"<ac:task><ac:task-id>{task_id}</ac:task-id>"

    out = []
    for is_cdata, text in parts:
        if not is_cdata:
            text = _MACRO.sub(add_macro_id, text)
            text = _TASK.sub(add_task_id, text)
        out.append(text)
    return "".join(out)


def _split_cdata(body: str) -> list[tuple[bool, str]]:
    parts: list[tuple[bool, str]] = []
    pos = 0
    for m in _CDATA.finditer(body):
        if m.start() > pos:
            parts.append((False, body[pos : m.start()]))
        parts.append((True, m.group(0)))
        pos = m.end()
    if pos < len(body):
        parts.append((False, body[pos:]))
    return parts
