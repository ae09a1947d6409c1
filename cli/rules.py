"""``speechqa rules``: check, store and apply rulesets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from speechqa.errors import SpeechQAError

from .common import console, fail, print_problems, service_settings

app = typer.Typer(help="Check, store and apply rulesets.", no_args_is_help=True)


@app.command("validate")
def rules_validate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A ruleset YAML file.")],
) -> None:
    """Check a ruleset file; every problem is listed with its line."""
    from speechqa.rules.ruleset import load_ruleset

    try:
        ruleset = load_ruleset(file.read_text(encoding="utf-8"))
    except SpeechQAError as exc:
        print_problems(exc)
        raise typer.Exit(1) from exc
    counts = ruleset.counts()
    print(
        f"{file}: ruleset '{ruleset.name}' is valid: {counts['rules']} rules, "
        f"{counts['script_steps']} script steps, {counts['scorecard_items']} scorecard items"
    )


@app.command("push")
def rules_push(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A ruleset YAML file.")],
) -> None:
    """Store a ruleset file as the next version of its ruleset."""
    from speechqa.rules import versions
    from speechqa.storage.database import migrate, session_scope

    settings = service_settings()
    try:
        migrate(settings)
        with session_scope(settings) as session:
            stored = versions.put(session, file.read_text(encoding="utf-8"))
    except SpeechQAError as exc:
        print_problems(exc)
        raise typer.Exit(1) from exc
    state = "stored as" if stored.created else "unchanged at"
    print(f"ruleset '{stored.name}' {state} version {stored.version}")


@app.command("rescore")
def rules_rescore(
    name: Annotated[str, typer.Argument(help="Ruleset name.")],
    version: Annotated[int | None, typer.Option(help="Version (default: the newest).")] = None,
) -> None:
    """Re-score stored transcripts with a ruleset version, here and now (no transcription)."""
    from speechqa.scoring import rescore
    from speechqa.storage.database import migrate

    settings = service_settings()
    with Progress(
        TextColumn("rescoring"), BarColumn(), TaskProgressColumn(), console=console
    ) as bar:
        task = bar.add_task("rescore", total=None)
        try:
            migrate(settings)
            used, calls = rescore(
                settings,
                name,
                version,
                lambda done, total: bar.update(task, completed=done, total=total),
            )
        except SpeechQAError as exc:
            raise fail(exc) from exc
    print(f"rescored {calls} calls with ruleset '{name}' version {used}")
