"""Commit message templates: the Go text/template subset, with image-automation-controller's
TemplateData (the docs' example template renders as the controller renders it)."""

from __future__ import annotations

import pytest

from fluxpush.images.automation import TemplateData
from fluxpush.images.gotemplate import TemplateError, render_template
from fluxpush.images.setters import Change, FileUpdate, ResourceIdentifier, SetterResult

DOCS_TEMPLATE = """\
Automated image update

Automation name: {{ .AutomationObject }}

Files:
{{ range $filename, $_ := .Changed.FileChanges -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind }} {{ $resource.Name }}
  Changes:
{{- range $_, $change := $changes }}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{ end -}}
{{ end -}}
"""


def data(values: dict[str, str] | None = None) -> TemplateData:
    deployment = ResourceIdentifier("apps/v1", "Deployment", "app-1", "apps")
    release = ResourceIdentifier("helm.toolkit.fluxcd.io/v2", "HelmRelease", "redis", "apps")
    result = SetterResult([
        FileUpdate("apps/app-1/deploy.yaml", "app-1/deploy.yaml", "", "",
                   [(deployment, Change("r/app-1:1.0.0", "r/app-1:1.1.0", "flux-system:app-1"))]),
        FileUpdate("apps/redis.yaml", "redis.yaml", "", "",
                   [(release, Change("7.0.6", "7.2.4", "flux-system:redis:tag"))]),
    ])
    return TemplateData("flux-system", "apps", result, values or {})


def test_the_documented_template():
    assert render_template(DOCS_TEMPLATE, data()) == """\
Automated image update

Automation name: flux-system/apps

Files:
- app-1/deploy.yaml
- redis.yaml
Objects:
- Deployment app-1
  Changes:
    - r/app-1:1.0.0 -> r/app-1:1.1.0
- HelmRelease redis
  Changes:
    - 7.0.6 -> 7.2.4
"""


def test_changes_values_if_else_with_and_pipes():
    template = ("[{{ .Values.env }}] {{ len .Changed.Changes }} change(s)"
                "{{ range .Changed.Changes }} {{ .Setter | upper }}={{ .NewValue }}{{ end }}"
                "{{ if eq .Values.env \"prod\" }} PROD{{ else if .Values.env }} other{{ else }} none{{ end }}"
                "{{ with .AutomationObject }} by {{ .Name }}{{ end }}{{/* a comment */}}")
    assert render_template(template, data({"env": "staging"})) == (
        "[staging] 2 change(s) FLUX-SYSTEM:APP-1=r/app-1:1.1.0 FLUX-SYSTEM:REDIS:TAG=7.2.4 other by apps")
    assert render_template(template, data({"env": "prod"})).endswith(" PROD by apps")
    assert render_template(template, data()).endswith(" none by apps")


def test_printf_and_variables():
    template = '{{ $n := len .Changed.Changes }}{{ printf "%d images: %s" $n .AutomationObject.Name }}'
    assert render_template(template, data()) == "2 images: apps"


@pytest.mark.parametrize(("template", "problem"), [
    ("{{ .Updated }}", "removed '.Updated' field"),
    ("{{ .Changed.ImageResult }}", "removed '.Changed.ImageResult' field"),
    ("{{ .Nope }}", "can't evaluate field Nope"),
    ("{{ if .Values }}x", "has no `{{end}}`"),
    ('{{ template "x" }}', "not supported"),
    ("{{ sha256sum .Values }}", "not supported"),
    ("{{ $missing }}", "undefined variable"),
])
def test_template_errors_say_what_is_wrong(template, problem):
    with pytest.raises(TemplateError, match=problem):
        render_template(template, data())
