"""The web app: server-rendered pages for agents, reviewers, coaches and leads.

It sits beside ``api/`` in the same FastAPI process and calls the same core functions the API
does (listing, the call document, reviews, KPIs, coaching, rulesets), never a copy of them.
"""
