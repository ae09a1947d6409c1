"""``speechqa user``: people and systems with roles and teams."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from speechqa.errors import SpeechQAError

from .common import console, fail, service_settings

TIME_ZONE_HELP = "The zone they see times in, e.g. Europe/Berlin (default: their browser's)."

app = typer.Typer(help="Manage users (roles and teams).", no_args_is_help=True)


@app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. an e-mail address.")],
    role: Annotated[str, typer.Option(help="ingest, agent, reviewer, coach, lead or admin.")],
    team: Annotated[
        list[str] | None, typer.Option(help="A team whose calls they see (repeatable; none: all).")
    ] = None,
    agent: Annotated[str | None, typer.Option(help="For an agent: their agent id.")] = None,
    new_team: Annotated[
        bool, typer.Option(help="Allow a team that no call or user has yet (else: a typo?).")
    ] = False,
    time_zone: Annotated[str | None, typer.Option(help=TIME_ZONE_HELP)] = None,
) -> None:
    """Add a user; give them a key with ``speechqa apikey create --user NAME``."""
    from speechqa.storage.database import migrate, session_scope
    from speechqa.users import create_user, known_teams

    settings = service_settings()
    try:
        migrate(settings)
        with session_scope(settings) as session:
            known = known_teams(session)
            unknown = sorted(set(team or []) - set(known))
            if unknown and not new_team:
                console.print(
                    f"[red]No call or user has team {', '.join(map(repr, unknown))}.[/red] "
                    f"Teams: {', '.join(known) or 'none yet'}. "
                    "Pass --new-team to make the user with it anyway.",
                    soft_wrap=True,
                )
                raise typer.Exit(1)
            user = create_user(
                session, name, role, teams=team or [], agent_id=agent, time_zone=time_zone
            )
    except SpeechQAError as exc:
        raise fail(exc) from exc
    if user.agent_id:
        print(
            f"user {user.name}: agent {user.agent_id}, sees only their own calls"
            f"{_zone(user.time_zone)}"
        )
    else:
        teams = ", ".join(user.teams) or "every team"
        print(f"user {user.name}: {user.role}, sees {teams}{_zone(user.time_zone)}")


@app.command("update")
def user_update(
    name: Annotated[str, typer.Argument(help="The user's name.")],
    time_zone: Annotated[str, typer.Option(help=TIME_ZONE_HELP + " '' clears it.")],
) -> None:
    """Change a user's settings (their time zone)."""
    from speechqa.storage.database import migrate, session_scope
    from speechqa.users import update_user

    settings = service_settings()
    try:
        migrate(settings)
        with session_scope(settings) as session:
            user = update_user(session, name, time_zone=time_zone or None)
    except SpeechQAError as exc:
        raise fail(exc) from exc
    shown = user.time_zone or "their browser's zone"
    print(f"user {user.name}: times in {shown}")


def _zone(time_zone: str | None) -> str:
    return f", times in {time_zone}" if time_zone else ""


@app.command("list")
def user_list() -> None:
    """Every user with role, teams and agent id."""
    from speechqa.storage.database import migrate, session_scope
    from speechqa.users import list_users

    settings = service_settings()
    try:
        migrate(settings)
        with session_scope(settings) as session:
            users = list_users(session)
    except SpeechQAError as exc:
        raise fail(exc) from exc
    table = Table("name", "role", "teams", "agent", "time zone")
    for u in users:
        table.add_row(
            u.name, u.role, ", ".join(u.teams) or "all", u.agent_id or "", u.time_zone or "browser"
        )
    Console().print(table)
