"""Give the files the action created in the workspace back to the workspace's owner.

A Docker action runs as root (GitHub's rule for container actions), but the workspace it is given
belongs to the runner's user (UID 1001 on hosted runners, any UID on self-hosted ones). What root
leaves there (the plan file under .fluxpush/, objects `git fetch` added to .git for the offline
preview) would be unremovable by that user, and the next job's checkout would fail to clean it. So
on exit every root-owned path under the workspace is handed to the workspace folder's owner. Outside
a root container, or when root owns the workspace, nothing changes.
"""

from __future__ import annotations

import os
from pathlib import Path


def hand_back(workspace: Path) -> int:
    """Chown root-owned paths under `workspace` to its owner when running as root; returns how many."""
    if os.geteuid() != 0 or not workspace.is_dir():
        return 0
    owner = workspace.stat()
    if owner.st_uid == 0:
        return 0
    changed = 0
    for folder, dirs, files in os.walk(workspace):
        for name in (*dirs, *files):
            path = os.path.join(folder, name)
            try:
                if os.lstat(path).st_uid == 0:
                    os.lchown(path, owner.st_uid, owner.st_gid)
                    changed += 1
            except FileNotFoundError:  # removed while we walked (a worktree being cleaned up)
                continue
    return changed
