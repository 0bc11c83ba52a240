"""Workflow commands and file commands, read back the way the Actions runner reads them."""

from __future__ import annotations

import io
import re

import pytest

from fluxpush.errors import ReportError
from fluxpush.report.workflow import (
    MAX_STEP_SUMMARY_BYTES,
    WorkflowCommands,
    append_step_summary,
    escape_data,
    escape_property,
    format_command,
    set_output,
)


def unescape(text: str) -> str:
    """What the runner does to a message or property (actions/runner ActionCommand.Unescape)."""
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Split `::cmd k=v,k=v::message` as the runner does (properties split on `,`, then on the first `=`)."""
    match = re.fullmatch(r"::([^ :]+)(?: ([^:]*))?::(.*)", line)
    assert match, line
    props = dict(p.split("=", 1) for p in match.group(2).split(",")) if match.group(2) else {}
    return match.group(1), {k: unescape(v) for k, v in props.items()}, unescape(match.group(3))


def read_outputs(path) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT like the runner: `name=value` lines and `name<<DELIM` … `DELIM` blocks."""
    lines = path.read_text(encoding="utf-8").split("\n")
    outputs: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        elif line:
            name, value = line.split("=", 1)
            outputs[name] = value
            i += 1
        else:
            i += 1
    return outputs


def test_message_and_property_escaping():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_annotation_with_a_tricky_file_title_and_multiline_message():
    stream = io.StringIO()
    WorkflowCommands(stream).error(
        "kustomize build failed:\n  accumulating resources: 50% broken",
        file="clusters/prod,eu/app:1.yaml",
        line=12,
        title="Kustomization flux-system/apps",
    )
    (line,) = stream.getvalue().splitlines()
    command, props, message = parse_command(line)

    assert command == "error"
    assert props == {
        "file": "clusters/prod,eu/app:1.yaml",
        "line": "12",
        "title": "Kustomization flux-system/apps",
    }
    assert message == "kustomize build failed:\n  accumulating resources: 50% broken"


def test_warning_notice_group_and_debug():
    stream = io.StringIO()
    commands = WorkflowCommands(stream)
    with commands.group("apps/podinfo"):
        commands.warning("slow", title="health")
        commands.notice("done")
        commands.debug("detail")

    assert stream.getvalue().splitlines() == [
        "::group::apps/podinfo",
        "::warning title=health::slow",
        "::notice::done",
        "::debug::detail",
        "::endgroup::",
    ]
    with pytest.raises(ValueError, match="unknown annotation level"):
        commands.annotate("fatal", "x")
    assert format_command("error", "m", {"file": None, "line": 3}) == "::error line=3::m"


def test_mask_whole_value_and_each_line_of_a_multiline_one():
    stream = io.StringIO()
    commands = WorkflowCommands(stream)
    commands.add_mask("ghs_abc")
    commands.add_mask("line one\nline two")
    commands.add_mask("   ")

    assert [parse_command(line)[2] for line in stream.getvalue().splitlines()] == [
        "ghs_abc",
        "line one\nline two",
        "line one",
        "line two",
    ]


def test_stop_commands_uses_a_fresh_token_and_resumes():
    stream = io.StringIO()
    commands = WorkflowCommands(stream)
    with commands.stop_commands():
        stream.write("::add-mask::attacker-controlled\n")
    first, untrusted, resume = stream.getvalue().splitlines()
    token = first.removeprefix("::stop-commands::")
    assert len(token) == 32 and untrusted == "::add-mask::attacker-controlled" and resume == f"::{token}::"


def test_outputs_use_the_heredoc_form_and_survive_multiline_values(tmp_path):
    out = tmp_path / "output"
    value = "line 1\nEOF\nname=fake\n\nlast"
    set_output("summary", value, out)
    set_output("changed", "true", out)

    assert read_outputs(out) == {"summary": value, "changed": "true"}
    delimiters = re.findall(r"^summary<<(\S+)$", out.read_text(), flags=re.M)
    assert delimiters and delimiters[0].startswith("ghadelimiter_") and delimiters[0] not in value
    with pytest.raises(ReportError, match="one non-empty line"):
        set_output("bad\nname", "x", out)


def test_outputs_need_github_output(monkeypatch, tmp_path):
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    with pytest.raises(ReportError, match=r"\$GITHUB_OUTPUT is not set"):
        set_output("x", "y")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "o"))
    set_output("x", "y")
    assert read_outputs(tmp_path / "o") == {"x": "y"}


def test_step_summary_stays_under_one_mebibyte(tmp_path):
    summary = tmp_path / "summary.md"
    first = "# Plan\n" + "".join(f"| row {n} | ✏️ |\n" for n in range(20_000))
    assert append_step_summary(first, summary) == len(first.encode())

    huge = "".join(f"-  value: {'é' * 40} {n}\n" for n in range(40_000))
    written = append_step_summary(huge, summary)

    data = summary.read_bytes()
    assert len(data) <= MAX_STEP_SUMMARY_BYTES
    assert written == len(data) - len(first.encode())
    text = data.decode("utf-8")  # cut on a character (and line) boundary
    assert text.startswith(first)
    kept = text[len(first) : text.index("\n\n> [!WARNING]")]
    assert huge.startswith(kept) and kept.endswith("\n")
    assert f"{len(huge.encode()) - len(kept.encode()):,} bytes were left out" in text
    assert append_step_summary("x" * 1000, summary) == 0  # no room left for it, nor for another note
    assert len(summary.read_bytes()) == len(data)
