from __future__ import annotations

import pytest

from codes.demo import load_demo
from codes.models import Code
from tests.factories import make_user


@pytest.fixture
def demo(db) -> None:
    """The demo content: a small slice of the real files, as `make run` serves it."""
    load_demo()


@pytest.fixture
def code_64494(demo) -> Code:
    return Code.objects.select_related("system", "group").get(system__slug="cpt", key="64494")


@pytest.fixture
def member(db):
    return make_user()


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def staff_client(client, db):
    client.force_login(make_user(is_staff=True))
    return client
