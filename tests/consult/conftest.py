from __future__ import annotations

import pytest

from tests.factories import make_consultant, make_user


@pytest.fixture
def asker(db):
    return make_user("asker@example.com")


@pytest.fixture
def consultant(db):
    return make_consultant("coder@example.com", name="Dana")


@pytest.fixture
def asker_client(client, asker):
    client.force_login(asker)
    return client
