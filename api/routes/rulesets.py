"""Rulesets: store new versions, read them, validate drafts, and re-score stored calls."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from speechqa.errors import InvalidInput
from speechqa.rules import versions
from speechqa.rules.ruleset import load_ruleset

from ..deps import JobsDep, ManageRulesets, ReadRulesets, SessionDep, Version
from ..schemas import (
    ERRORS,
    RescoreAccepted,
    RulesetList,
    RulesetRead,
    RulesetValid,
)

router = APIRouter(prefix="/v1/rulesets", tags=["rulesets"], responses=ERRORS)

_YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string", "minLength": 1}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"source": {"type": "string", "minLength": 1}},
                    "required": ["source"],
                }
            },
        },
    }
}


async def _source(request: Request) -> str:
    """The ruleset text: a YAML body, or JSON ``{"source": "..."}``."""
    raw = await request.body()
    if not raw.strip():
        raise InvalidInput("Send the ruleset as YAML in the request body.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("The ruleset must be UTF-8 text.") from exc
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"The body is not valid JSON: {exc}.") from exc
        if not isinstance(data, dict) or not isinstance(data.get("source"), str):
            raise InvalidInput('JSON bodies carry the YAML text as {"source": "..."}.')
        text = data["source"]
    return text


@router.get("", response_model=RulesetList)
def list_rulesets(session: SessionDep, _: ReadRulesets) -> dict[str, Any]:
    """Every ruleset with its newest version."""
    return {"rulesets": versions.names(session)}


@router.post("/validate", openapi_extra=_YAML_BODY, response_model=RulesetValid)
async def validate_ruleset(request: Request, _: ReadRulesets) -> dict[str, Any]:
    """Check a draft ruleset without storing it; a 422 lists every problem."""
    ruleset = await run_in_threadpool(load_ruleset, await _source(request))
    return {"valid": True, "name": ruleset.name, **ruleset.counts()}


@router.put(
    "/{name}",
    openapi_extra=_YAML_BODY,
    response_model=versions.Stored,
    responses={201: {"model": versions.Stored, "description": "A new version was stored"}},
)
async def put_ruleset(
    name: str,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: ManageRulesets,
) -> versions.Stored:
    """Store a new version of a ruleset (unchanged text keeps the current version)."""
    source = await _source(request)
    stored = await run_in_threadpool(versions.put, session, source, name=name, by=principal.who)
    response.status_code = 201 if stored.created else 200
    return stored


@router.get("/{name}", response_model=RulesetRead)
def get_ruleset(
    name: str, session: SessionDep, _: ReadRulesets, version: Version = None
) -> dict[str, Any]:
    """A ruleset version (default: the newest) with its source and the list of versions."""
    return versions.describe(session, name, version)


@router.post("/{name}/rescore", status_code=202, response_model=RescoreAccepted)
def rescore(
    name: str,
    request: Request,
    session: SessionDep,
    jobs: JobsDep,
    _: ManageRulesets,
    version: Version = None,
) -> RescoreAccepted:
    """Re-evaluate this ruleset's calls from their stored transcripts, in the background.

    Each call's KPI row and journal follow the newest version that has scored it.
    """
    ruleset = versions.get(session, name, version)
    job_id = jobs.enqueue_rescore(name, ruleset.version or 0)
    return RescoreAccepted(
        job_id=job_id,
        ruleset=name,
        version=ruleset.version,
        status_url=str(request.url_for("get_job", job_id=job_id)),
    )
