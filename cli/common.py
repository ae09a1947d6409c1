"""What every command shares: the console, settings, errors and logging."""

from __future__ import annotations

import logging

import typer
from rich.console import Console

from speechqa.errors import SpeechQAError
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


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        for noisy in ("httpx", "httpcore", "faster_whisper", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def print_problems(exc: SpeechQAError) -> None:
    console.print(f"[red]error ({exc.code}):[/red] {exc.message.split(':')[0]}")
    for problem in exc.details or []:
        where = problem.get("where", "")
        line = f" line {problem['line']}" if "line" in problem else ""
        column = f", column {problem['column']}" if "column" in problem else ""
        console.print(f"  {where}{line}{column}: {problem.get('message', problem.get('problem'))}")
