"""The commit message template of an ImageUpdateAutomation: the common subset of Go's text/template.

Supported: text with `{{ }}` actions and `{{-`/`-}}` trimming, `{{/* comments */}}`, field chains
on `.`, `$` and variables (`.Changed.FileChanges`, `$change.NewValue`), `if`/`else if`/`else`,
`range` (over lists and maps, keys sorted as Go does, with `$k, $v :=` and `else`), `with`, pipes
(`x | f`), and the functions `len`, `not`, `and`, `or`, `eq`, `ne`, `index`, `print`, `printf`
(`%s %d %v %q`), `join`, `upper`, `lower`, `trim`. The data is image-automation-controller's
TemplateData: `.AutomationObject` (prints `namespace/name`), `.Changed` (`.FileChanges`,
`.Objects`, `.Changes`; each change has `.OldValue`, `.NewValue`, `.Setter`; objects `.Kind`,
`.Name`, `.Namespace`, `.APIVersion`) and `.Values` (`messageTemplateValues`). Not supported:
`define`/`template`/`block`, parentheses in pipelines, and the rest of sprig; they are errors that
say so. `.Updated` and `.Changed.ImageResult`, removed from the API, are errors as in the controller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fluxpush.errors import InputError

_ACTION = re.compile(r"\{\{(-[ \t\r\n])?(.*?)([ \t\r\n]-)?\}\}", re.DOTALL)
_WORD = re.compile(r'"(?:\\.|[^"\\])*"|`[^`]*`|[^\s|]+|\|')
_REMOVED = {"Updated": "template uses removed '.Updated' field. Please use '.Changed' instead",
            "ImageResult": "template uses removed '.Changed.ImageResult' field. "
                           "Please use '.Changed.FileChanges' or '.Changed.Objects' instead"}


class TemplateError(InputError):
    """The message template cannot be parsed or run."""


@dataclass
class _Block:
    keyword: str  # "" for the root, if, range, with
    argument: str
    body: list[Any] = field(default_factory=list)
    otherwise: list[Any] = field(default_factory=list)
    in_else: bool = False
    chained: bool = False  # an `else if`: the enclosing block's `end` closes it too

    def add(self, item: Any) -> None:
        (self.otherwise if self.in_else else self.body).append(item)


def _pieces(source: str) -> list[tuple[str, str]]:
    """Text and actions in order, with `{{-` and `-}}` trimming applied."""
    cursor = 0
    pieces: list[tuple[str, str]] = []
    for match in _ACTION.finditer(source):
        text = source[cursor:match.start()]
        pieces.append(("text", text.rstrip(" \t\r\n") if match[1] else text))
        pieces.append(("action", match[2].strip()))
        cursor = match.end()
        if match[3]:
            rest = source[cursor:]
            cursor += len(rest) - len(rest.lstrip(" \t\r\n"))
    pieces.append(("text", source[cursor:]))
    return pieces


def _close(stack: list[_Block]) -> None:
    while stack[-1].chained:
        stack.pop()
    stack.pop()


def _parse(source: str) -> _Block:
    stack = [_Block("", "")]
    for kind, value in _pieces(source):
        keyword, _, argument = value.partition(" ")
        if kind == "text":
            stack[-1].add(value)
        elif value.startswith("/*"):
            continue
        elif keyword in ("if", "range", "with") or (keyword == "else" and argument.startswith("if ")):
            chained = keyword == "else"
            if chained:
                stack[-1].in_else = True
            block = _Block("if" if chained else keyword, argument[3:] if chained else argument,
                           chained=chained)
            stack[-1].add(block)
            stack.append(block)
        elif keyword == "else" and len(stack) > 1:
            stack[-1].in_else = True
        elif keyword == "end" and len(stack) > 1:
            _close(stack)
        elif keyword in ("define", "template", "block", "else", "end", "break", "continue"):
            raise TemplateError(f"messageTemplate: `{{{{{keyword}}}}}` is not supported by fluxpush here")
        else:
            stack[-1].add(("expr", value))
    if len(stack) > 1:
        raise TemplateError(f"messageTemplate: `{{{{{stack[-1].keyword}}}}}` has no `{{{{end}}}}`")
    return stack[0]


def go_string(value: Any) -> str:
    """How Go's fmt prints a template value."""
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if hasattr(value, "go_string"):
        return str(value.go_string())
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{go_string(k)}:{go_string(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    return str(value)


def _truth(value: Any) -> bool:
    return bool(value) if not hasattr(value, "go_string") else True


def _printf(form: str, *args: Any) -> str:
    values = iter(args)

    def one(match: re.Match[str]) -> str:
        if match[0] == "%%":
            return "%"
        value = next(values, None)
        return f'"{go_string(value)}"' if match[0] == "%q" else go_string(value)

    return re.sub(r"%[sdvq%]", one, form)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "not": lambda v: not _truth(v), "eq": lambda a, *b: any(a == x for x in b),
    "ne": lambda a, b: a != b, "and": lambda *v: next((x for x in v if not _truth(x)), v[-1]),
    "or": lambda *v: next((x for x in v if _truth(x)), v[-1]), "index": lambda v, *k: _index(v, k),
    "print": lambda *v: "".join(go_string(x) for x in v), "printf": _printf,
    "join": lambda sep, items: sep.join(go_string(x) for x in items), "upper": lambda v: go_string(v).upper(),
    "lower": lambda v: go_string(v).lower(), "trim": lambda v: go_string(v).strip(),
}


def _index(value: Any, keys: tuple[Any, ...]) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else value[int(key)]
    return value


def _field(value: Any, name: str) -> Any:
    if name in _REMOVED:
        raise TemplateError(f"messageTemplate: {_REMOVED[name]}")
    if isinstance(value, Mapping):
        return value.get(name, "")
    fields = getattr(value, "template_fields", None)
    if fields is None or name not in fields():
        raise TemplateError(f"messageTemplate: can't evaluate field {name} in type {type(value).__name__}")
    return fields()[name]


class _Scope:
    def __init__(self, dot: Any, variables: dict[str, Any]) -> None:
        self.dot, self.variables = dot, variables

    def operand(self, word: str) -> Any:
        if word.startswith('"'):
            return bytes(word[1:-1], "utf-8").decode("unicode_escape")
        if word.startswith("`"):
            return word[1:-1]
        if re.fullmatch(r"-?[0-9]+", word):
            return int(word)
        if word in ("true", "false"):
            return word == "true"
        head, *chain = word.split(".")
        if word.startswith("."):
            value, chain = self.dot, [c for c in chain if c]
        elif head.startswith("$"):
            if head not in self.variables:
                raise TemplateError(f"messageTemplate: undefined variable {head}")
            value = self.variables[head]
        else:
            raise TemplateError(f"messageTemplate: function {head!r} is not supported by fluxpush")
        for name in chain:
            value = _field(value, name)
        return value

    def command(self, words: list[str], piped: list[Any]) -> Any:
        if words[0] in FUNCTIONS:
            return FUNCTIONS[words[0]](*[self.operand(w) for w in words[1:]], *piped)
        if len(words) > 1 or piped:
            raise TemplateError(f"messageTemplate: function {words[0]!r} is not supported by fluxpush")
        return self.operand(words[0])

    def pipeline(self, text: str) -> Any:
        words = _WORD.findall(text)
        commands: list[list[str]] = [[]]
        for word in words:
            if word == "|":
                commands.append([])
            else:
                commands[-1].append(word)
        if not all(commands):
            raise TemplateError(f"messageTemplate: missing value in {{{{{text}}}}}")
        value: list[Any] = []
        for command in commands:
            value = [self.command(command, value)]
        return value[0]


def _declare(argument: str) -> tuple[list[str], str]:
    names, sep, pipe = argument.partition(":=")
    if not sep:
        return [], argument
    return [n.strip() for n in names.split(",")], pipe.strip()


def _items(value: Any) -> list[tuple[Any, Any]]:
    if isinstance(value, Mapping):
        return [(k, value[k]) for k in sorted(value)]
    if isinstance(value, list | tuple):
        return list(enumerate(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return [(i, i) for i in range(value)]
    raise TemplateError(f"messageTemplate: range can't iterate over {go_string(value)}")


def _run(items: list[Any], scope: _Scope, out: list[str]) -> None:
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, tuple):
            names, pipe = _declare(item[1])
            value = scope.pipeline(pipe)
            if names:
                scope.variables[names[0]] = value
            else:
                out.append(go_string(value))
        else:
            _run_block(item, scope, out)


def _run_block(block: _Block, scope: _Scope, out: list[str]) -> None:
    names, pipe = _declare(block.argument)
    value = scope.pipeline(pipe)
    if block.keyword == "if":
        _run(block.body if _truth(value) else block.otherwise, scope, out)
    elif block.keyword == "with":
        inner = _Scope(value, dict(scope.variables))
        _run(block.body, inner, out) if _truth(value) else _run(block.otherwise, scope, out)
    else:
        items = _items(value)
        for key, element in items:
            variables = dict(scope.variables)
            if len(names) == 1:
                variables[names[0]] = element
            elif len(names) == 2:
                variables[names[0]], variables[names[1]] = key, element
            _run(block.body, _Scope(element, variables), out)
        if not items:
            _run(block.otherwise, scope, out)


def render_template(source: str, data: Any) -> str:
    """`source` executed with `data` (which answers `template_fields()`); a TemplateError says why not."""
    root = _parse(source)
    out: list[str] = []
    _run(root.body, _Scope(data, {"$": data}), out)
    return "".join(out)
