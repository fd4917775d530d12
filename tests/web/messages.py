"""Every message id the portal can show: from the templates (Jinja's extractor) and the code."""

from __future__ import annotations

import ast
from pathlib import Path

from jinja2.ext import babel_extract

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# Templates of the demo mailbox are English-only operator pages, not part of the public site.
UNTRANSLATED_TEMPLATES = ("mailbox",)
_FUNCTIONS = {
    "gettext": (0,),
    "_": (0,),
    "N_": (0,),
    "ngettext": (0, 1),
    "flash": (2,),
    "FlashRedirect": (2,),
}


def template_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((PORTAL / "templates").rglob("*.html")):
        if path.relative_to(PORTAL / "templates").parts[0] in UNTRANSLATED_TEMPLATES:
            continue
        with path.open("rb") as handle:
            options = {"newstyle_gettext": "true", "trimmed": "true", "silent": "false"}
            for line, _function, message, _comments in babel_extract(
                handle, ("_", "gettext", "ngettext"), (), options
            ):
                for text in message if isinstance(message, tuple) else (message,):
                    if text:
                        found.setdefault(text, f"{path.name}:{line}")
    return found


def code_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(PORTAL.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            for index in _FUNCTIONS.get(str(name), ()):
                if index < len(node.args):
                    argument = node.args[index]
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        found.setdefault(argument.value, f"{path.name}:{node.lineno}")
    return found


def all_messages() -> dict[str, str]:
    return template_messages() | code_messages()
