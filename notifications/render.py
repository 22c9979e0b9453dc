"""Render a message kind to subject, plain text and HTML with the package's Jinja2 templates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape

from notifications.kinds import KINDS, required_keys

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("id", "en")


class RenderError(ValueError):
    """A message cannot be rendered: unknown kind or language, or its context is incomplete."""


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class _Compiled:
    subject: jinja2.Template
    text: jinja2.Template
    html: jinja2.Template


@cache
def environment() -> Environment:
    """The one Jinja2 environment: autoescape for .html only, undefined names are errors."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False,
                                     default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # templates ship with the package: no need to stat them on every render
        auto_reload=False,
        cache_size=-1,
    )


@cache
def _compiled(kind: str, language: str) -> _Compiled:
    env = environment()
    base = f"{language}/{kind}"
    return _Compiled(subject=env.get_template(f"{base}.subject.txt"),
                     text=env.get_template(f"{base}.txt"),
                     html=env.get_template(f"{base}.html"))


def check(kind: str, context: Mapping[str, Any], language: str = "id") -> None:
    """Raise RenderError naming what is wrong with this kind, language or context."""
    if kind not in KINDS:
        raise RenderError(f"unknown message kind {kind!r}; known kinds: {', '.join(KINDS)}")
    if language not in LANGUAGES:
        raise RenderError(f"unsupported language {language!r}; use one of {', '.join(LANGUAGES)}")
    missing = [k for k in required_keys(kind) if k not in context]
    if missing:
        raise RenderError(f"context for {kind!r} is missing: {', '.join(missing)}")


def render(kind: str, context: Mapping[str, Any], language: str = "id") -> RenderedEmail:
    """Subject, text and HTML of one message; raises RenderError for a bad kind or context."""
    check(kind, context, language)
    compiled = _compiled(kind, language)
    # templates see only the declared keys, so a template cannot drift from the contract
    values: dict[str, Any] = {k: context[k] for k in required_keys(kind)}
    values["language"] = language
    try:
        subject = " ".join(compiled.subject.render(values).split())
        values["subject"] = subject
        return RenderedEmail(subject=subject, text=compiled.text.render(values) + "\n",
                             html=compiled.html.render(values) + "\n")
    except TemplateError as exc:
        raise RenderError(f"cannot render {kind!r} ({language}): {exc}") from exc
