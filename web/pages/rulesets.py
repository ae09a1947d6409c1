"""Rulesets for leads: versions and their source, a new version with every problem shown at
its line, and re-scoring the stored transcripts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from speechqa.access import Action
from speechqa.rules import versions
from speechqa.rules.ruleset import RulesetInvalid

from ..deps import PageRoute, Viewer, allowed, back, database, form_of, jobs_of, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
RulesetManager = Annotated[Viewer, Depends(allowed(Action.MANAGE_RULESETS))]


@router.get("/rulesets")
def rulesets_page(request: Request, who: RulesetManager) -> Response:
    with database(request) as session:
        found = versions.names(session)
    return render(request, "rulesets.html", who, rulesets=found)


@router.get("/rulesets/{name}")
def ruleset_page(name: str, request: Request, who: RulesetManager) -> Response:
    raw = request.query_params.get("version")
    with database(request) as session:
        described = versions.describe(session, name, int(raw) if raw and raw.isdigit() else None)
    return render(request, "ruleset.html", who, r=described, draft=described["source"], problems=[])


@router.post("/rulesets/{name}")
async def store_version(name: str, request: Request, who: RulesetManager) -> Response:
    """A new version from the form; on problems the page comes back with each at its line."""
    form = await form_of(request, who)
    source = str(form.get("source") or "")
    try:
        with database(request) as session:
            stored = versions.put(session, source, name=name, by=who.principal.who)
    except RulesetInvalid as exc:
        with database(request) as session:
            described = (
                versions.describe(session, name)
                if versions.exists(session, name)
                else {"name": name, "version": None, "versions": [], "source": ""}
            )
        lines = {p.get("line") for p in exc.details or [] if p.get("line")}
        return render(
            request,
            "ruleset.html",
            who,
            r=described,
            draft=source,
            problems=exc.details or [],
            error_lines=lines,
        )
    note = f"Stored as version {stored.version}." if stored.created else "Unchanged."
    return back(f"/rulesets/{name}", note)


@router.post("/rulesets/{name}/rescore")
async def rescore(name: str, request: Request, who: RulesetManager) -> Response:
    await form_of(request, who)
    with database(request) as session:
        ruleset = versions.get(session, name)
    job_id = jobs_of(request).enqueue_rescore(name, ruleset.version or 0)
    return back(f"/rulesets/{name}", f"Re-scoring with version {ruleset.version} (job {job_id}).")
