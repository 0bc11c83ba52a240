"""`make lint`'s gates catch what they are for: each is run, with the project's own configuration, on
code with one planted violation (and on the same code without it, so the test fails if a gate passes
everything or refuses everything).

- mypy (strict): a wrong argument type, and a function without annotations;
- ruff C901: a function of 40 branches;
- import-linter: kubesim importing fluxpush, a module other than runner importing subprocess, engine
  importing helm, helm importing discovery, and image automation importing a face, in a copy of src/.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"
BIN = Path(sys.executable).parent


def _run(*argv: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache of the tests' own: they may run in parallel, and the project's cache is make lint's."""
    return tmp_path_factory.mktemp("mypy-cache")


def _mypy(module: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return _run(sys.executable, "-m", "mypy", "--config-file", CONFIG, "--no-error-summary",
                "--cache-dir", cache, module)


TYPED = '''
def double(count: int) -> int:
    return count * 2


def report() -> str:
    return str(double(2))
'''


@pytest.mark.parametrize(("planted", "code"), [
    ("return str(double(2))", "arg-type"),  # becomes double("2")
    ("def double(count: int) -> int:", "no-untyped-def"),  # becomes def double(count):
])
def test_mypy_refuses_a_planted_type_error(tmp_path, mypy_cache, planted, code):
    module = tmp_path / "planted.py"
    module.write_text(TYPED)
    clean = _mypy(module, mypy_cache)
    assert clean.returncode == 0, clean.stdout
    replacement = {"arg-type": 'return str(double("2"))', "no-untyped-def": "def double(count):"}[code]
    module.write_text(TYPED.replace(planted, replacement))
    broken = _mypy(module, mypy_cache)
    assert broken.returncode != 0
    assert f"[{code}]" in broken.stdout


def _branches(count: int) -> str:
    lines = ["def classify(value: int) -> str:"]
    lines += [f"    if value == {n}:\n        return '{n}'" for n in range(count)]
    return "\n".join([*lines, "    return 'other'", ""])


def _ruff(module: Path) -> subprocess.CompletedProcess[str]:
    return _run(BIN / "ruff", "check", "--no-cache", "--config", CONFIG, "--output-format", "concise", module)


def test_ruff_refuses_a_function_over_the_complexity_bound(tmp_path):
    module = tmp_path / "planted.py"
    module.write_text(_branches(11))  # complexity 12: the bound
    assert _ruff(module).returncode == 0
    module.write_text(_branches(40))
    broken = _ruff(module)
    assert broken.returncode != 0
    assert "C901 `classify` is too complex (41 > 12)" in broken.stdout


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """src/ and the configuration, copied; lint-imports passes on it as it is."""
    copy = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(CONFIG, copy / "pyproject.toml")
    return copy


def _lint_imports(copy: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=copy, capture_output=True, text=True,
                          timeout=300, env={"PYTHONPATH": str(copy / "src"), "PATH": str(BIN)})


@pytest.mark.parametrize(("module", "planted", "chain"), [
    ("kubesim/errors.py", "import fluxpush.errors\n", "kubesim.errors -> fluxpush.errors"),
    ("fluxpush/repository/graph.py", "import subprocess\n", "fluxpush.repository.graph -> subprocess"),
    ("fluxpush/render/substitute.py", "import fluxpush.kube.client\n",
     "fluxpush.render.substitute -> fluxpush.kube.client"),
    ("fluxpush/flux/kinds.py", "import fluxpush.repository.source\n",
     "fluxpush.flux.kinds -> fluxpush.repository.source"),
    # each kind's reconciler behind fluxpush.reconciler's protocol: engine and helm stay independent
    ("fluxpush/engine/run.py", "import fluxpush.helm.reconcile\n",
     "fluxpush.engine.run -> fluxpush.helm.reconcile"),
    ("fluxpush/helm/sources.py", "import fluxpush.repository.discover\n",
     "fluxpush.helm.sources -> fluxpush.repository.discover"),
    # image automation is an engine the CLI and the action both drive: it reaches no face
    ("fluxpush/images/run.py", "import fluxpush.action.render\n",
     "fluxpush.images.run -> fluxpush.action.render"),
    ("fluxpush/images/git.py", "import fluxpush.app.cluster\n",
     "fluxpush.images.git -> fluxpush.app.cluster"),
    ("fluxpush/images/automation.py", "import fluxpush.cli.options\n",
     "fluxpush.images.automation -> fluxpush.cli.options"),
])
def test_import_contracts_refuse_a_planted_import(source_copy, module, planted, chain):
    assert _lint_imports(source_copy).returncode == 0
    path = source_copy / "src" / module
    original = path.read_text()
    path.write_text(planted + original)
    try:
        result = _lint_imports(source_copy)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    assert f"{chain} (l.1)" in result.stdout, result.stdout[-2000:]
