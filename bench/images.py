"""`python -m bench.images`: the cost of image automation's pure parts, printed as numbers.

- choosing a tag among N tags with each policy kind (semver range, alphabetical, numerical, and
  filterTags with extract), the work a run does per ImagePolicy once the tags are listed;
- setting markers across a tree of F YAML files (each with one marked image line), the work a run does
  per ImageUpdateAutomation.

Registry round trips are not included: they depend on the registry (one request per 1000 tags).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from fluxpush.images.policy import PolicySpec, choose
from fluxpush.images.setters import apply_setters, setter_values

POLICIES = {
    "semver >=1.0.0 <50.0.0": {"policy": {"semver": {"range": ">=1.0.0 <50.0.0"}}},
    "alphabetical asc": {"policy": {"alphabetical": {}}},
    "numerical asc (filter+extract)": {"policy": {"numerical": {}},
                                       "filterTags": {"pattern": r"^build-(?P<n>[0-9]+)$", "extract": "$n"}},
}


def _tags(count: int) -> list[str]:
    tags = []
    for n in range(count):
        tags.append(f"{n % 97}.{n % 13}.{n}" if n % 3 else f"build-{n}")
    return tags


def time_policies(count: int) -> None:
    tags = _tags(count)
    for name, spec in POLICIES.items():
        policy = PolicySpec.from_spec(spec, "image.toolkit.fluxcd.io/v1", "bench")
        started = time.perf_counter()
        decision = choose(policy, tags, "bench")
        elapsed = 1000 * (time.perf_counter() - started)
        print(f"{name:34} {count:>7} tags  {elapsed:8.1f} ms  -> {decision.tag}")


def time_setters(files: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for n in range(files):
            folder = root / f"app-{n % 50}"
            folder.mkdir(exist_ok=True)
            (folder / f"deploy-{n}.yaml").write_text(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n"
                "    spec:\n      containers:\n        - name: app\n"
                '          image: reg.io/app:1.0.0 # {"$imagepolicy": "flux-system:app"}\n'
                + "# filler\n" * 40)
        started = time.perf_counter()
        result = apply_setters(root, root, setter_values("flux-system:app", "reg.io/app", "2.0.0", ""))
        elapsed = time.perf_counter() - started
        print(f"setters over {files} files: {1000 * elapsed:.0f} ms ({len(result.files)} changed, "
              f"{1e6 * elapsed / files:.0f} µs per file)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.images", description=__doc__)
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=2_000)
    args = parser.parse_args(argv)
    time_policies(args.tags)
    time_setters(args.files)


if __name__ == "__main__":
    main()
