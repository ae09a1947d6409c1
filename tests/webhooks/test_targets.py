"""Webhook SSRF: private, loopback, link-local and metadata receivers are refused when a URL is
registered and again at every attempt, after resolving its name then (DNS rebinding)."""

from __future__ import annotations

import socket

import pytest

from speechqa.settings import get_settings
from tests.support import deliver_webhooks, delivery_log, emit_event

PROBE_URLS = [  # the outside probe's URLs (turn 3, section 4), and a few more kinds
    ("http://10.0.0.1/", "a private"),
    ("http://169.254.169.254/latest/meta-data/", "a cloud metadata"),
    ("http://[::ffff:169.254.169.254]/", "a cloud metadata"),
    ("http://0xa9fea9fe/", "a cloud metadata"),
    ("http://2852039166/", "a cloud metadata"),
    ("http://[fd00::1]/", "a private"),
    ("http://192.168.1.1/", "a private"),
    ("http://172.16.0.1/", "a private"),
    ("http://metadata.google.internal/computeMetadata/v1/", "a local or internal name"),
    ("http://localhost:6379/", "a local or internal name"),
    ("http://127.0.0.1:5432/", "a loopback"),
    ("http://[::1]:8766/", "a loopback"),
    ("http://0.0.0.0:8766/", "an unspecified"),
    ("http://0177.0.0.1/", "a loopback"),
    ("http://user:pass@127.0.0.1/", "a loopback"),
    ("http://127.0.0.1:8766/v1/apikeys", "a loopback"),
    ("http://100.64.0.1/", "a shared (CGNAT)"),
    ("http://169.254.10.1/", "a link-local"),
    ("http://224.0.0.1/", "a multicast"),
    ("http://240.0.0.1/", "a reserved"),
    ("http://[64:ff9b::a9fe:a9fe]/", "a cloud metadata"),
]


@pytest.fixture
def no_allowance(settings, monkeypatch):
    """The default: no private receivers admitted (the other webhook tests admit 127.0.0.1)."""
    monkeypatch.setattr(settings, "webhook_allowed_networks", ())
    return settings


@pytest.mark.parametrize(("url", "kind"), PROBE_URLS, ids=[u for u, _ in PROBE_URLS])
def test_a_private_or_metadata_url_is_refused_with_the_setting_that_allows_it(
    client, admin, no_allowance, url, kind
):
    r = client.post("/v1/webhooks", headers=admin, json={"url": url, "events": ["call.failed"]})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_input"
    assert kind in error["message"]
    assert "webhooks go to public addresses only" in error["message"]
    assert "SPEECHQA_WEBHOOK_ALLOWED_NETWORKS" in error["message"]
    assert client.get("/v1/webhooks", headers=admin).json() == []


@pytest.mark.parametrize(
    ("allowed", "url"),
    [("10.0.0.0/8", "http://10.0.0.1/hooks"), ("fd00::/8", "http://[fd00::1]/"),
     ("hooks.corp.internal", "https://hooks.corp.internal/qa"),
     ("127.0.0.1", "http://0177.0.0.1:8080/")],
)  # fmt: skip
def test_the_allow_list_admits_private_receivers(
    client, admin, settings, monkeypatch, allowed, url
):
    monkeypatch.setattr(settings, "webhook_allowed_networks", (allowed,))
    r = client.post("/v1/webhooks", headers=admin, json={"url": url, "events": ["call.failed"]})
    assert r.status_code == 201, r.text


def test_a_public_url_and_one_that_does_not_resolve_yet_are_accepted(client, admin, no_allowance):
    for url in ("https://93.184.215.14/hooks", "https://hooks.not-resolvable.invalid/qa"):
        r = client.post("/v1/webhooks", headers=admin, json={"url": url, "events": ["call.failed"]})
        assert r.status_code == 201, r.text


def _resolving(monkeypatch, name: str, address: str) -> None:
    """DNS (the one thing mocked): ``name`` resolves to ``address``, the rest as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == name:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_that_turns_private_after_registration_is_not_sent_to(
    client, admin, hooks, receiver, monkeypatch
):
    monkeypatch.setenv("SPEECHQA_WEBHOOK_ALLOWED_NETWORKS", "")
    get_settings.cache_clear()
    settings = get_settings()
    port = receiver.url.split(":")[2].split("/")[0]
    _resolving(monkeypatch, "hooks.rebind.example", "93.184.215.14")  # public when registered
    r = client.post("/v1/webhooks", headers=admin,
                    json={"url": f"http://hooks.rebind.example:{port}/hooks",
                          "events": ["call.analyzed"]})  # fmt: skip
    assert r.status_code == 201, r.text
    _resolving(monkeypatch, "hooks.rebind.example", "127.0.0.1")  # then rebound to this host
    emit_event(settings)
    assert deliver_webhooks(settings) == 1
    assert receiver.requests == []  # nothing was sent
    (entry,) = delivery_log(client, admin, r.json()["id"])["deliveries"]
    (attempt,) = entry["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("Not sent: the URL's host hooks.rebind.example (127.0.0.1)")
    assert "a loopback address" in attempt["error"]


def test_localhost_is_not_sent_to_once_it_is_no_longer_allowed(
    client, admin, hooks, receiver, monkeypatch
):
    r = client.post("/v1/webhooks", headers=admin,
                    json={"url": receiver.url.replace("127.0.0.1", "localhost"),
                          "events": ["call.analyzed"]})  # fmt: skip
    assert r.status_code == 201, r.text  # localhost is on the tests' allow-list
    monkeypatch.setenv("SPEECHQA_WEBHOOK_ALLOWED_NETWORKS", "")
    get_settings.cache_clear()
    settings = get_settings()
    emit_event(settings)
    assert deliver_webhooks(settings) == 1
    assert receiver.requests == []
    (entry,) = delivery_log(client, admin, r.json()["id"])["deliveries"]
    assert "localhost is a local or internal name" in entry["attempts"][0]["error"]


def test_an_allowed_name_is_sent_to_the_address_checked_with_its_own_host_header(
    client, admin, hooks, receiver, monkeypatch
):
    monkeypatch.setenv("SPEECHQA_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1")
    get_settings.cache_clear()
    settings = get_settings()
    port = receiver.url.split(":")[2].split("/")[0]
    _resolving(monkeypatch, "hooks.corp.example", "127.0.0.1")
    r = client.post("/v1/webhooks", headers=admin,
                    json={"url": f"http://hooks.corp.example:{port}/hooks",
                          "events": ["call.analyzed"]})  # fmt: skip
    assert r.status_code == 201, r.text
    emit_event(settings)
    assert deliver_webhooks(settings) == 1
    (request,) = receiver.requests
    assert request.headers["host"] == f"hooks.corp.example:{port}"
    (entry,) = delivery_log(client, admin, r.json()["id"])["deliveries"]
    assert entry["status"] == "succeeded"
