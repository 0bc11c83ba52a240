"""Only `fluxpush.runner` starts processes. The import contract in pyproject.toml catches `subprocess`
and `multiprocessing`; this catches what comes from `os` itself (`os.system`, `os.popen`, the
`exec*`, `spawn*`, `fork*` and `posix_spawn*` families), which an import check cannot see."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
RUNNER = SRC / "fluxpush" / "runner.py"
SPAWNING = ("system", "popen", "exec", "spawn", "fork", "posix_spawn")


def spawning_calls(source: str) -> list[str]:
    """`os.<name>` uses (and `from os import <name>`) that start or replace a process."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
                and node.attr.startswith(SPAWNING)):
            found.append(f"os.{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"from os import {a.name} (line {node.lineno})"
                      for a in node.names if a.name.startswith(SPAWNING)]
    return found


def test_no_module_but_runner_starts_a_process_through_os():
    offenders = {str(path.relative_to(SRC)): calls for path in sorted(SRC.rglob("*.py"))
                 if path != RUNNER and (calls := spawning_calls(path.read_text(encoding="utf-8")))}
    assert offenders == {}


def test_the_check_sees_a_planted_spawn():
    planted = "import os\nfrom os import execvp\n\ndef run(cmd: str) -> int:\n    return os.system(cmd)\n"
    assert spawning_calls(planted) == ["from os import execvp (line 2)", "os.system (line 5)"]
    assert spawning_calls("import os\n\nos.getpid()\nos.killpg(1, 9)\n") == []
