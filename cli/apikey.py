"""``speechqa apikey``: create, list and revoke API keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from speechqa.errors import SpeechQAError

from .common import console, fail, service_settings

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@app.command("create")
def apikey_create(
    scope: Annotated[
        list[str] | None,
        typer.Option(help="ingest, agent, review, coach, lead or admin (repeatable)."),
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="A user (speechqa user create): their role and teams.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Who the key is for.")] = None,
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="The key stops working after this.")
    ] = None,
) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    from speechqa.apikeys import create_key, parse_scopes
    from speechqa.storage.database import migrate, session_scope
    from speechqa.storage.tables import utcnow

    settings = service_settings()
    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        scopes = parse_scopes(scope or []) if user is None else []
        migrate(settings)
        with session_scope(settings) as session:
            key = create_key(session, scopes, name=name, expires_at=expires, user=user)
    except SpeechQAError as exc:
        raise fail(exc) from exc
    until = f", valid until {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
    holder = f"for user {user}" if user else f"with scopes {', '.join(scopes)}"
    console.print(f"API key {holder}{until} (shown once, store it now):")
    print(key)


@app.command("list")
def apikey_list(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
) -> None:
    """List keys: id, name, prefix, scopes, last use, expiry (never the keys themselves)."""
    from speechqa.apikeys import list_keys
    from speechqa.storage.database import migrate, session_scope

    settings = service_settings()
    try:
        migrate(settings)
        with session_scope(settings) as session:
            keys = list_keys(session, include_revoked=all_)
    except SpeechQAError as exc:
        raise fail(exc) from exc
    table = Table("id", "name", "prefix", "scopes", "last used", "expires", "state")
    for k in keys:
        state = "revoked" if k.revoked_at else ("active" if k.active else "expired")
        table.add_row(
            str(k.id),
            k.name or "",
            k.prefix,
            ",".join(k.scopes),
            f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never",
            f"{k.expires_at:%Y-%m-%d %H:%M}" if k.expires_at else "never",
            state,
        )
    Console().print(table)


@app.command("revoke")
def apikey_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (apikey list).")],
) -> None:
    """Revoke a key: requests with it fail from now on."""
    from speechqa.apikeys import revoke_key
    from speechqa.storage.database import migrate, session_scope

    settings = service_settings()
    try:
        migrate(settings)
        with session_scope(settings) as session:
            info = revoke_key(session, key_id)
    except SpeechQAError as exc:
        raise fail(exc) from exc
    print(f"revoked key {info.id} ({info.prefix}...)")
