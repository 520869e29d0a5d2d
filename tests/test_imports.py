"""Every module of ``proxy.actions`` imports first, in a fresh interpreter: no import
cycle among them that only a lucky import order hides (the read path's ``Target`` and
checks live in ``proxy.actions.target``, which imports no action)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import proxy.actions

MODULES = sorted(f"proxy.actions.{p.stem}" for p in Path(proxy.actions.__file__).parent.glob(
    "*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", MODULES)
def test_imports_first(module: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_target_imports_no_action() -> None:
    source = Path(proxy.actions.__file__).with_name("target.py").read_text()
    assert "from proxy.actions" not in source and "import proxy.actions" not in source
