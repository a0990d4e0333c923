"""Jinja2 templates: templates/<name>.<locale>.{subject,txt,html}, falling back to `en`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, TemplateNotFound, select_autoescape

TEMPLATE_DIR = Path(__file__).parent / "templates"
FALLBACK_LOCALE = "en"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        keep_trailing_newline=True,
    )


def _render(name: str, locale: str, part: str, context: dict[str, Any]) -> str:
    env = _environment()
    try:
        template = env.get_template(f"{name}.{locale}.{part}")
    except TemplateNotFound:
        template = env.get_template(f"{name}.{FALLBACK_LOCALE}.{part}")
    return template.render(**context)


def render(name: str, context: dict[str, Any], *, locale: str | None = None) -> Rendered:
    """Subject, plain text and HTML of template `name` in `locale` (or English)."""
    locale = (locale or FALLBACK_LOCALE).split("-")[0].lower()
    return Rendered(
        subject=_render(name, locale, "subject", context).strip(),
        text=_render(name, locale, "txt", context),
        html=_render(name, locale, "html", context),
    )
