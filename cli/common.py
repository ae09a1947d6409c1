"""What every command shares: the console, settings, errors and logging."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from speechqa.errors import SpeechQAError
from speechqa.logs import configure_logging
from speechqa.settings import Settings, get_settings

console = Console(stderr=True)


def load_settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:
        console.print(f"[red]Invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc


CHECKOUT = Path(__file__).resolve().parents[1]
"""The checkout this CLI runs from, when installed editable (``make install``)."""


def service_settings() -> Settings:
    """The settings of the service whose users and keys a command reads or changes, said on
    stderr: the data folder or database configured (``SPEECHQA_DATA_DIR``,
    ``SPEECHQA_DATABASE_URL``, also in ``.env``), else ``./var`` when it holds a database, else
    the checkout's ``var/`` (where ``make run`` keeps it). Where none holds one, the command
    refuses instead of starting an empty database that ``speechqa serve`` would not read."""
    from sqlalchemy.engine import make_url

    settings = load_settings()
    if {"data_dir", "database_url"} & settings.model_fields_set:
        how = "as configured"
    elif (settings.data_dir / "speechqa.db").exists():
        how = "in this folder"
    elif (CHECKOUT / "pyproject.toml").exists() and (CHECKOUT / "var" / "speechqa.db").exists():
        settings = settings.model_copy(update={"data_dir": CHECKOUT / "var"})
        how = "the checkout's, where `make run` keeps it"
    else:
        here = settings.data_dir.resolve()
        console.print(
            f"[red]No speechqa database in {here}.[/red] Run this in the folder where "
            "`speechqa serve` runs (it keeps its data in ./var), or name the service's data "
            f"with SPEECHQA_DATA_DIR=/path/to/var (SPEECHQA_DATA_DIR={here} starts a new one "
            "here).",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    if settings.database_url:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
    else:
        where = str((settings.data_dir / "speechqa.db").resolve())
    console.print(f"Data: {where} ({how})", soft_wrap=True, highlight=False)
    return settings


def fail(exc: SpeechQAError) -> typer.Exit:
    console.print(f"[red]error ({exc.code}):[/red] {exc.message}")
    return typer.Exit(1)


def setup_logging(verbose: bool) -> Settings:
    """Load the settings and set up logging from them (``--verbose``: DEBUG); return them."""
    settings = load_settings()
    configure_logging(settings, verbose=verbose)
    return settings


def print_problems(exc: SpeechQAError) -> None:
    console.print(f"[red]error ({exc.code}):[/red] {exc.message.split(':')[0]}")
    for problem in exc.details or []:
        where = problem.get("where", "")
        line = f" line {problem['line']}" if "line" in problem else ""
        column = f", column {problem['column']}" if "column" in problem else ""
        console.print(f"  {where}{line}{column}: {problem.get('message', problem.get('problem'))}")
