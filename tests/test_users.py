"""One visible name, one user: names that only look different are refused, naming the user
they look like, and names with characters no one can see are refused outright."""

from __future__ import annotations

import unicodedata

import pytest

from speechqa.errors import Conflict, InvalidInput
from speechqa.storage.database import session_scope
from speechqa.text import skeleton
from speechqa.users import create_user, list_users

JOSE_NFC = unicodedata.normalize("NFC", "José")
JOSE_NFD = unicodedata.normalize("NFD", "José")

# (the existing user, a second name that looks the same)
LOOK_ALIKES = [
    ("lisa", "Lisa"),
    ("lisa", "LISA"),
    ("lisa", "l\u0456sa"),  # Cyrillic i
    ("lisa", "\uff4c\uff49\uff53\uff41"),  # fullwidth
    ("lisa", "L\u0406SA"),  # capitals, with a Cyrillic I
    ("paco", "\u0440\u0430\u0441\u043e"),  # all Cyrillic
    ("nico", "nic\u03bf"),  # Greek omicron
    (JOSE_NFC, JOSE_NFD),
    ("u-rev", " u-rev "),
]
INVISIBLE = [
    "u-rev\u200b",  # zero-width space
    "\u202eadmin",  # right-to-left override
    "ad\u200dmin",  # zero-width joiner
    "\ufeffadmin",  # byte order mark
    "ad\u00a0min",  # no-break space
    "ad\u3164min",  # Hangul filler
    "ad\u2066min",  # left-to-right isolate
]


@pytest.mark.parametrize(("first", "second"), LOOK_ALIKES)
def test_a_look_alike_name_is_refused_naming_the_user(client, admin, first, second):
    assert client.post("/v1/users", headers=admin,
                       json={"name": first, "role": "reviewer"}).status_code == 201  # fmt: skip
    r = client.post("/v1/users", headers=admin, json={"name": second, "role": "reviewer"})
    assert r.status_code == 409, r.text
    existing = unicodedata.normalize("NFC", first.strip())
    assert r.json()["error"]["details"] == {"existing": existing}
    assert repr(existing) in r.json()["error"]["message"]
    assert [u["name"] for u in client.get("/v1/users", headers=admin).json()] == [existing]


@pytest.mark.parametrize("name", INVISIBLE)
def test_a_name_with_an_invisible_character_is_refused(client, admin, name):
    r = client.post("/v1/users", headers=admin, json={"name": name, "role": "reviewer"})
    assert r.status_code == 422, r.text
    assert "invisible or control characters" in r.json()["error"]["message"]
    assert client.get("/v1/users", headers=admin).json() == []


def test_names_that_differ_to_the_eye_are_different_users(sqlite_settings):
    names = ["lisa", "liza", "Jose", JOSE_NFD, "José Ramírez", "Zoë", "李娜", "Dmitri", "Дмитрий"]
    with session_scope(sqlite_settings) as session:
        for name in names:
            create_user(session, name, "reviewer")
        stored = [u.name for u in list_users(session)]
    assert sorted(stored) == sorted(unicodedata.normalize("NFC", n) for n in names)
    assert JOSE_NFC in stored and JOSE_NFD not in stored  # kept in NFC


def test_the_core_refuses_the_same_for_the_cli(sqlite_settings):
    with session_scope(sqlite_settings) as session:
        create_user(session, "lisa", "reviewer")
        with pytest.raises(Conflict, match="'lisa' exists"):
            create_user(session, "L\u0456SA", "lead")
        with pytest.raises(InvalidInput, match="U\\+200B"):
            create_user(session, "li\u200bsa", "lead")


def test_skeleton():
    assert skeleton("\uff2c\u0456\u0455\u0430") == skeleton("lisa") == "lisa"
    assert skeleton(JOSE_NFD) == skeleton(JOSE_NFC) != skeleton("Jose")
