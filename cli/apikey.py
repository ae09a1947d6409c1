"""``speechqa apikey``: API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import console, fail, load_settings
from speechqa.errors import SpeechQAError

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@app.command("create")
def apikey_create(
    scope: Annotated[list[str], typer.Option(help="ingest, review, coach or admin (repeatable).")],
    name: Annotated[str | None, typer.Option(help="Who the key is for.")] = None,
) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    from speechqa.apikeys import create_key, parse_scopes
    from speechqa.storage.database import migrate, session_scope

    settings = load_settings()
    try:
        scopes = parse_scopes(scope)
        migrate(settings)
        with session_scope(settings) as session:
            key = create_key(session, scopes, name=name)
    except SpeechQAError as exc:
        raise fail(exc) from exc
    console.print(f"API key with scopes {', '.join(scopes)} (shown once, store it now):")
    print(key)
