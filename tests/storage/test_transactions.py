"""A transaction is all or nothing, also when its first write is in a savepoint (SQLite's
driver would otherwise let the savepoint's release commit on its own)."""

from __future__ import annotations

import pytest

from speechqa.storage.database import session_scope
from speechqa.users import create_user, list_users


def test_a_rolled_back_transaction_keeps_nothing_its_savepoints_wrote(settings):
    with pytest.raises(RuntimeError), session_scope(settings) as session:
        create_user(session, "nora", "reviewer")  # written in a savepoint
        raise RuntimeError("the rest of the change failed")
    with session_scope(settings) as session:
        assert list_users(session) == []
        create_user(session, "nora", "reviewer")
    with session_scope(settings) as session:
        assert [u.name for u in list_users(session)] == ["nora"]
