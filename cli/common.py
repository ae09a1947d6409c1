"""What every command shares: the console, settings, errors and logging."""

from __future__ import annotations

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
