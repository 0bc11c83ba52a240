"""The secret registry: each registered value is masked in every form it takes in output."""

from __future__ import annotations

import base64
import io
import json

from fluxpush.redact import (
    MASK,
    RedactingStream,
    on_secret,
    redact,
    redact_data,
    register_environment_secrets,
    register_secret,
    register_secret_data,
    unmasked,
)
from fluxpush.report.workflow import WorkflowCommands


def test_a_value_is_masked_as_itself_its_lines_and_its_encodings():
    value = 's3cr3t/pa ss"word\nsecond-line-xyz'
    register_secret(value)
    encoded = base64.b64encode(value.encode()).decode()
    text = ('plain s3cr3t/pa ss"word, line second-line-xyz, json s3cr3t/pa ss\\"word, url s3cr3t%2Fpa%20ss'
            f"%22word, b64 {encoded}")
    masked = redact(text)
    assert "s3cr3t" not in masked and "second-line-xyz" not in masked and "%2Fpa" not in masked
    assert masked.count(MASK) == 5


def test_short_values_and_literals_are_not_registered():
    for value in ("abc", "true", "False", "null", "12345", "1.5e3", "", None):
        register_secret(value)
    assert redact("abc true False null 12345 1.5e3") == "abc true False null 12345 1.5e3"


def test_data_is_masked_string_by_string_so_json_stays_valid():
    register_secret_data({"nested": ["tok-123456", {"k": "pw-abcdef"}], "n": 3})
    data = {"token": "tok-123456", "list": ["x pw-abcdef y"], "tok-123456": True}
    assert redact_data(data) == {"token": MASK, "list": [f"x {MASK} y"], MASK: True}
    text = json.dumps(data)
    assert json.loads(redact(text)) == {"token": MASK, "list": [f"x {MASK} y"], MASK: True}


def test_a_redacting_stream_masks_what_is_written_and_keeps_the_inner_stream():
    inner = io.StringIO()
    stream = RedactingStream(inner)
    register_secret("hunter2-hunter2")
    print("password is hunter2-hunter2", file=stream)
    assert inner.getvalue() == f"password is {MASK}\n"
    assert unmasked(stream) is inner


def test_listeners_hear_of_past_and_future_values_and_add_mask_prints_each_once():
    register_secret("before-value-1")
    out = io.StringIO()
    commands = WorkflowCommands(RedactingStream(out))
    on_secret(commands.add_mask)
    register_secret("after-value-2\nsecond-line-3")
    register_secret("after-value-2\nsecond-line-3")
    commands.add_mask("before-value-1")
    assert out.getvalue().splitlines() == [
        "::add-mask::before-value-1",
        "::add-mask::after-value-2%0Asecond-line-3",
        "::add-mask::after-value-2",
        "::add-mask::second-line-3",
    ]


def test_ci_credentials_in_the_environment_are_registered():
    register_environment_secrets({"AWS_SESSION_TOKEN": "session-token-xyz", "GITHUB_TOKEN": "ghs_abcdef",
                                  "HOME": "/home/runner-visible"})
    assert redact("session-token-xyz ghs_abcdef /home/runner-visible") == "*** *** /home/runner-visible"
