from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command

from codes.models import Code
from tests.factories import make_code, make_group, make_system


@pytest.fixture(autouse=True)
def _plain_static_storage(settings) -> None:
    # Production serves hashed files from a manifest that `collectstatic` writes; tests read
    # the source files directly (tests/test_deploy.py checks the production path).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def cpt():
    return make_system("cpt")


@pytest.fixture
def facet_family(cpt) -> dict[str, Code]:
    """The lumbar and cervical facet joint injection family, 64490–64495, with its tree."""
    surgery = make_group(cpt, title="Surgery", kind="section", code_from="10004", code_to="69990")
    nervous = make_group(
        cpt,
        title="Nervous System",
        parent=surgery,
        kind="subsection",
        code_from="61000",
        code_to="64999",
    )
    family = make_group(
        cpt,
        title="Paravertebral facet joint injections",
        parent=nervous,
        code_from="64490",
        code_to="64495",
    )
    codes = {}
    for number, addon in [
        ("64490", False),
        ("64491", True),
        ("64492", True),
        ("64493", False),
        ("64494", True),
        ("64495", True),
    ]:
        codes[number] = make_code(
            number, system=cpt, group=family, is_addon=addon, short=f"Inj paravert f jnt {number}"
        )
    codes["64491"].primary_codes.set([codes["64490"]])
    codes["64492"].primary_codes.set([codes["64490"], codes["64491"]])
    codes["64494"].primary_codes.set([codes["64493"]])
    codes["64495"].primary_codes.set([codes["64493"], codes["64494"]])
    return codes


@pytest.fixture
def many_codes(cpt) -> list[Code]:
    """Ten plain codes in one range, for spending several views."""
    group = make_group(cpt, title="Office visits", code_from="99202", code_to="99215")
    return [make_code(f"992{n:02d}", system=cpt, group=group) for n in range(2, 12)]


@pytest.fixture
def mail_queue(settings):
    """Mail goes through the real queue (django-mailer); `flush()` runs the worker once and
    returns what left, as the locmem outbox holds it."""
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"
    settings.MAILER_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    def flush() -> list:
        call_command("send_mail", verbosity=0)
        return mail.outbox

    return flush
