"""The generated parts of the documentation: tables between cog markers in ``docs/``.

The prose of each page is Markdown in the page itself; only the tables that repeat a
definition are generated from it (the data contract, the KPI catalogue, the analyst
tables, the attention rules, the example targets), the way datasette keeps its docs with
cog. ``kohorte docs`` rewrites them, ``tests/test_docs.py`` fails when one is stale.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from cogapp import Cog

GENERATED = (
    "docs/data-contract.md",
    "docs/kpis.md",
    "docs/analyst-tables.md",
    "docs/attention.md",
    "docs/targets.md",
)


def _cog(root: Path, *options: str) -> tuple[int, str]:
    out = io.StringIO()
    files = [str(root / name) for name in GENERATED]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = Cog().main(["cog", "--verbosity=1", *options, *files])
    return code, out.getvalue()


def write(root: Path) -> list[str]:
    """Regenerate the marked blocks; the pages whose text changed."""
    code, out = _cog(root, "-r")
    if code:
        raise RuntimeError(out)
    return [name for name in GENERATED if str(root / name) in out]


def stale(root: Path) -> list[str]:
    """The pages whose marked blocks differ from what their definitions give."""
    code, out = _cog(root, "--check")
    return [name for name in GENERATED if str(root / name) in out] if code else []
