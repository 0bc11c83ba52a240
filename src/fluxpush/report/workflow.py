"""GitHub Actions workflow commands (stdout) and file commands (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`).

Escaping follows what the runner un-escapes (actions/toolkit `command.ts`): in a message `%`, CR and
LF become `%25`, `%0D`, `%0A`; in a property value `:` and `,` additionally become `%3A` and `%2C`.
"""

from __future__ import annotations

import os
import secrets
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partialmethod
from pathlib import Path
from typing import TextIO

from fluxpush.errors import ReportError
from fluxpush.redact import redact, register_secret, unmasked

# The runner refuses to upload a step summary larger than 1 MiB (the step then shows an error annotation).
MAX_STEP_SUMMARY_BYTES = 1024 * 1024
# Room kept at the end of a full summary for the note that says it was cut.
SUMMARY_NOTE_RESERVE = 512


def actions_run_url(server_url: str, repository: str, run_id: str) -> str | None:
    """A GitHub Actions run's page, or None when any part is unknown."""
    if not (server_url and repository and run_id):
        return None
    return f"{server_url.rstrip('/')}/{repository}/actions/runs/{run_id}"


def escape_data(text: str) -> str:
    """Escape a command message: `%`, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property value: as a message, plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_command(
    command: str, message: str = "", properties: Mapping[str, object | None] | None = None
) -> str:
    """One workflow-command line `::command k=v,k=v::message`; properties set to None are left out."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (properties or {}).items()
        if value is not None
    )
    head = f"{command} {props}" if props else command
    return f"::{head}::{escape_data(message)}"


class WorkflowCommands:
    """Writes workflow commands to a stream (stdout by default, looked up at each write)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._masked: set[str] = set()

    def issue(self, command: str, message: str = "", **properties: object | None) -> None:
        """Print one workflow command and flush, so it interleaves in order with subprocess output."""
        stream = self._stream or sys.stdout
        stream.write(format_command(command, message, properties) + "\n")
        stream.flush()

    def add_mask(self, value: str) -> None:
        """Register a secret with the runner (`::add-mask::`, whole and line by line when multi-line)
        and with `fluxpush.redact`, so fluxpush's own outputs mask it too; once per value."""
        if not value.strip() or value in self._masked:
            return
        self._masked.add(value)
        stream = unmasked(self._stream or sys.stdout)  # the one place a value is printed as it is
        lines = [line for line in value.splitlines() if line.strip()]
        for item in [value, *(lines if len(lines) > 1 else [])]:
            stream.write(format_command("add-mask", item) + "\n")
        stream.flush()
        register_secret(value)

    def annotate(
        self,
        level: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        end_line: int | None = None,
        col: int | None = None,
        end_column: int | None = None,
        title: str | None = None,
    ) -> None:
        """An `error`, `warning` or `notice` annotation, optionally placed on a file and line."""
        if level not in ("error", "warning", "notice"):
            raise ValueError(f"unknown annotation level {level!r}")
        self.issue(
            level, message, file=file, line=line, endLine=end_line, col=col, endColumn=end_column, title=title
        )

    error = partialmethod(annotate, "error")
    warning = partialmethod(annotate, "warning")
    notice = partialmethod(annotate, "notice")

    def debug(self, message: str) -> None:
        """A line shown only when step debug logging is on."""
        self.issue("debug", message)

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A collapsible log section around the body of the `with` block."""
        self.issue("group", title)
        try:
            yield
        finally:
            self.issue("endgroup")

    @contextmanager
    def stop_commands(self) -> Iterator[None]:
        """Stop the runner from reading workflow commands while untrusted text is printed."""
        token = secrets.token_hex(16)
        self.issue("stop-commands", token)
        try:
            yield
        finally:
            self.issue(token)


def _file_from_env(variable: str, path: str | os.PathLike[str] | None) -> Path:
    chosen = path if path is not None else os.environ.get(variable)
    if not chosen:
        raise ReportError(f"${variable} is not set: not running inside a GitHub Actions step")
    return Path(chosen)


def set_output(name: str, value: str, path: str | os.PathLike[str] | None = None) -> None:
    """Append a step output to `$GITHUB_OUTPUT` in the multi-line-safe `name<<DELIMITER` form."""
    if not name or "\n" in name or "\r" in name:
        raise ReportError(f"output name {name!r} must be one non-empty line")
    value = redact(value)
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    while delimiter in value or delimiter in name:  # practically never: then draw another one
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
    with _file_from_env("GITHUB_OUTPUT", path).open("a", encoding="utf-8", newline="\n") as handle:
        handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def _cut_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` ending at a line break whose UTF-8 form fits `max_bytes`."""
    prefix = text.encode("utf-8")[: max(max_bytes, 0)].decode("utf-8", errors="ignore")
    cut = prefix.rfind("\n")
    return prefix[: cut + 1] if cut >= 0 else ""


def append_step_summary(markdown: str, path: str | os.PathLike[str] | None = None) -> int:
    """Append markdown to `$GITHUB_STEP_SUMMARY`, keeping the file under 1 MiB; returns bytes written.

    What does not fit is cut at a line boundary and replaced by a note that says how much was left out.
    """
    target = _file_from_env("GITHUB_STEP_SUMMARY", path)
    markdown = redact(markdown)
    used = target.stat().st_size if target.exists() else 0
    room = MAX_STEP_SUMMARY_BYTES - used
    data = markdown.encode("utf-8")
    if len(data) > room:
        kept = _cut_utf8(markdown, room - SUMMARY_NOTE_RESERVE)
        left_out = len(data) - len(kept.encode("utf-8"))
        note = (
            f"\n\n> [!WARNING]\n> The job summary reached GitHub's 1 MiB limit per step: "
            f"{left_out:,} bytes were left out.\n"
        )
        text = kept + note if room >= SUMMARY_NOTE_RESERVE else ""
    else:
        text = markdown
    encoded = text.encode("utf-8")
    with target.open("ab") as handle:
        handle.write(encoded)
    return len(encoded)
