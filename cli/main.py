"""The ``speechqa`` command: serve, worker, analyze, sentiment, rules, apikey, user.

The CLI starts the service (the API, the pages, the workers) through ``speechqa_service`` and
imports no edge itself; it holds no analysis logic of its own. Each command group has its own
module.
"""

from __future__ import annotations

import typer

from . import analyze, apikey, rules, service, user

app = typer.Typer(
    help="speechqa: speech analytics for contact-center call review.", no_args_is_help=True
)
app.command()(analyze.analyze)
app.command()(analyze.sentiment)
app.command()(service.serve)
app.command()(service.worker)
app.add_typer(rules.app, name="rules")
app.add_typer(apikey.app, name="apikey")
app.add_typer(user.app, name="user")

if __name__ == "__main__":
    app()
