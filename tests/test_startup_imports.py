"""Start-up cost of the CLI: verbs that only render load neither the cluster client nor jsonschema.

Each check runs a fresh interpreter, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("jsonschema", "kubernetes", "urllib3", "fluxpush.kube", "fluxpush.app.usecases", "fluxpush.cli.run",
         "fluxpush.planning.plan")


def _loaded_after(code: str) -> list[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_the_cli_module_loads_none_of_the_heavy_modules() -> None:
    assert _loaded_after("import fluxpush.cli") == []


def test_repository_verbs_load_no_cluster_client_and_cluster_verbs_do() -> None:
    """A verb's module loads only when that verb runs (`fluxpush.cli.command`)."""
    for verb in ("build", "tree", "validate", "get", "version"):
        assert _loaded_after(f"from fluxpush.cli import command\ncommand({verb!r})") == [], verb
    cluster = _loaded_after("from fluxpush.cli import command\ncommand('diff')")
    assert {"fluxpush.kube", "fluxpush.app.usecases", "fluxpush.cli.run"} <= set(cluster)


def test_warm_up_loads_jsonschema_and_caches_the_validators() -> None:
    code = ("from fluxpush.flux import validate\nvalidate.warm_up()\n"
            "assert validate.schema_validator.cache_info().currsize >= 2")
    assert _loaded_after(code) == ["jsonschema"]
