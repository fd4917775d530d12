"""`switchover mail …`: the email templates, listed and previewed with sample data."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from cli import outbox_cmd
from cli.errors import fail, user_errors
from db.enums import Locale
from domain.emails.render import TEMPLATES, EmailTemplateError, UnknownTemplate, render_email
from domain.settings import get_settings

app = typer.Typer(help="Email templates and mail delivery.", no_args_is_help=True)
app.command("send")(outbox_cmd.send)


class Part(StrEnum):
    TEXT = "text"
    HTML = "html"
    BOTH = "both"


@app.command("templates")
def list_templates() -> None:
    """List the email templates and what each one is for."""
    width = max(len(name) for name in TEMPLATES)
    for name, spec in TEMPLATES.items():
        typer.echo(f"{name:<{width}}  {spec.description}")


@app.command()
def preview(
    template: Annotated[
        str, typer.Argument(help="Template name; see `switchover mail templates`.")
    ],
    locale: Annotated[Locale, typer.Option("--locale", "-l", help="Language of the email.")] = (
        Locale.EN
    ),
    part: Annotated[Part, typer.Option("--format", "-f", help="Which part to print.")] = Part.TEXT,
) -> None:
    """Render TEMPLATE with its sample data and the current settings, and print it."""
    with user_errors():
        settings = get_settings()
        spec = TEMPLATES.get(template)
        if spec is None:
            fail(str(UnknownTemplate(template, TEMPLATES)))
        try:
            rendered = render_email(template, locale, spec.sample(locale, settings), settings)
        except EmailTemplateError as exc:
            fail(str(exc))
    typer.echo(f"Subject: {rendered.subject}")
    if part in (Part.TEXT, Part.BOTH):
        typer.echo("")
        typer.echo(rendered.text, nl=False)
    if part in (Part.HTML, Part.BOTH):
        typer.echo("")
        typer.echo(rendered.html)
