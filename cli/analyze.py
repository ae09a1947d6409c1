"""Analysis in this process: ``speechqa analyze`` (a recording) and ``speechqa sentiment``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from speechqa.errors import SpeechQAError
from speechqa.settings import ROLES

from .common import console, fail, load_settings, print_problems

if TYPE_CHECKING:
    from speechqa.calls.document import CallDocument


def analyze(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A call recording.")],
    channels: Annotated[
        str | None, typer.Option(help="Roles of the left,right channels of a stereo call.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the call document as JSON.")
    ] = False,
    ruleset_file: Annotated[
        Path | None,
        typer.Option(
            "--ruleset", exists=True, dir_okay=False, help="Ruleset YAML (default: shipped)."
        ),
    ] = None,
) -> None:
    """Analyse one recording in this process and print the result."""
    from speechqa.analysis import analyse_recording
    from speechqa.calls import document
    from speechqa.rules.ruleset import default_ruleset_text, load_ruleset

    settings = load_settings()
    try:
        text = ruleset_file.read_text(encoding="utf-8") if ruleset_file else default_ruleset_text()
        ruleset = load_ruleset(text)
    except SpeechQAError as exc:
        print_problems(exc)
        raise typer.Exit(1) from exc
    channel_map = None
    if channels:
        roles = [r.strip() for r in channels.split(",")]
        if len(roles) != 2 or set(roles) != set(ROLES):
            console.print("[red]--channels takes two roles, e.g. agent,customer[/red]")
            raise typer.Exit(2)
        channel_map = {"left": roles[0], "right": roles[1]}
    try:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(file.name, total=1.0)

            def on_progress(stage: str, fraction: float) -> None:
                bar.update(task, completed=fraction, description=f"{file.name}: {stage}")

            analysis = analyse_recording(
                file, ruleset, settings, channel_map=channel_map, progress=on_progress
            )
    except SpeechQAError as exc:
        raise fail(exc) from exc
    transcript = analysis.transcript  # redacted as the worker stores it
    header = document.CallHeader(
        id=file.stem,
        status="done",
        duration_s=transcript.duration_s,
        source_channels=transcript.source_channels,
        channels=transcript.channels,
        roles_estimated=transcript.roles_estimated,
        language=transcript.language,
    )
    doc = document.build_document(
        header,
        transcript.utterances,
        analysis.evaluation,
        analysis.measures,
        sentiment_summary=analysis.sentiment,
    )
    if as_json:
        sys.stdout.write(json.dumps(document.as_json(doc), indent=2) + "\n")
        return
    _print_report(doc, file.name)


def _print_report(doc: CallDocument, name: str) -> None:
    out = Console()
    out.print(
        f"[bold]{name}[/bold]: {doc.duration_s or 0.0:.1f} s, {len(doc.utterances)} utterances"
    )
    for u in doc.utterances:
        when = f"[dim]{u.start:7.2f}-{u.end:7.2f}[/dim]"
        out.print(f"{when} [bold]{u.speaker:>9}[/bold]  {u.text}")
    score = doc.score
    if score:
        table = Table(
            title=f"Scorecard ({score.ruleset}): {score.value} / 100"
            + ("  [red]CRITICAL FAIL[/red]" if score.critical_fail else "")
        )
        for col in ("section", "item", "points", "result"):
            table.add_column(col)
        for section in score.sections:
            for item in section.items:
                points = f"{item.earned:g}/{item.possible:g}" if item.applicable else "N/A"
                table.add_row(section.name, item.item, points, item.reason)
        out.print(table)
    if doc.script:
        out.print(f"Script adherence: {doc.script.adherence:.0%}")


def sentiment(
    model: Annotated[
        Path | None, typer.Option(help="Model directory (default: the shipped model).")
    ] = None,
    speaker: Annotated[
        str | None,
        typer.Option(
            help="Who says the lines (agent, customer): reads their courtesy as the pipeline does."
        ),
    ] = None,
) -> None:
    """Read lines of text on stdin; write one JSON object per line: {"label", "score"}."""
    from speechqa.contracts import Utterance
    from speechqa.pipeline.sentiment import load_model, score_utterances

    settings = load_settings()
    try:
        classifier = load_model(model or settings.sentiment_model, settings.sentiment_threads)
    except SpeechQAError as exc:
        raise fail(exc) from exc
    batch: list[str] = []

    def flush() -> None:
        if speaker:
            lines = [Utterance(i, speaker, 0.0, 0.0, text) for i, text in enumerate(batch)]
            results = [u.sentiment for u in score_utterances(classifier, lines) if u.sentiment]
        else:
            results = classifier.predict(batch)
        for result in results:
            sys.stdout.write(json.dumps(result.as_dict()) + "\n")
        sys.stdout.flush()
        batch.clear()

    for line in sys.stdin:
        batch.append(line.rstrip("\n"))
        if len(batch) >= 64:
            flush()
    flush()
