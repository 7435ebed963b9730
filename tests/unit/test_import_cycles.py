"""The project's modules import one another without cycles (``scripts/import_cycles.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "import_cycles.py"


def run(src: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), str(src)], capture_output=True,
                          text=True, timeout=60)


def test_src_has_no_import_cycle() -> None:
    out = run(ROOT / "src")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "module-level cycles: 0" in out.stdout
    assert "cycles through deferred imports: 0" in out.stdout


def test_cycles_are_found_eager_and_deferred(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub.b import thing\n")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("from . import a\n")
    (pkg / "sub" / "b.py").write_text("def thing():\n    from pkg.sub import c\n")
    (pkg / "sub" / "c.py").write_text("from pkg.sub.b import thing\n")
    (pkg / "typed.py").write_text("from typing import TYPE_CHECKING\n"
                                  "if TYPE_CHECKING:\n    from pkg import a\n")
    (pkg / "a2.py").write_text("import pkg.typed\n")
    out = run(tmp_path)
    assert out.returncode == 1
    assert "module-level cycles: 1\n  pkg.a <-> pkg.b\n" in out.stdout
    assert "cycles through deferred imports: 1\n  pkg.sub.b <-> pkg.sub.c\n" in out.stdout
