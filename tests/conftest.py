from __future__ import annotations

import gzip
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from bench.importers import real_data_dir
from codes.models import Code
from tests.factories import make_code, make_group, make_system, make_user


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
def member(client):
    """A client logged in as a verified free account."""
    client.force_login(make_user())
    return client


# --- The claim check's worked examples: real CMS rows cut from ../shared/data ----------------

# The codes of the worked examples in the claim check issue.
CLAIM_CODES = {"64490", "64491", "64492", "64493", "64494", "64495", "77003", "20610", "99213"}

NCCI_FILE = "ncci/ptp-practitioner-2024q2-v301r0.tsv.gz"  # NCCI PTP v30.1, eff. 2024-04-01
MUE_FILE = "mue/mue-practitioner-2024q2.csv"  # MUE practitioner, eff. 2024-04-01
PFS_FILE = "pfs/PPRRVU25_JAN1.csv"  # PFS 2025 January release
PFS_PREAMBLE_ROWS = 10  # title and copyright rows, then the four-row column heading


def _real_folder() -> Path:
    folder = real_data_dir()
    if folder is None:
        pytest.skip("no real data folder: ../shared/data beside the repo, or $CASEPILOT_REAL_DATA")
    return folder


@pytest.fixture(scope="session")
def real_slices(tmp_path_factory) -> dict[str, Path]:
    """Slices of the real NCCI, MUE and PFS files holding every row among CLAIM_CODES.

    The NCCI copy has an empty Effective Date column (see the data README) and the importer
    needs a date: the slice gives each row the edition's start, 20240401. It keeps only the
    edits still in force in that edition (deletion date `*`); the file also lists a 20610 /
    99213 edit deleted on 20191231, which has no effective date to give it.
    """
    folder = _real_folder()
    target = tmp_path_factory.mktemp("real-slices")
    ncci = target / "ccipra-v301r0-claims-slice.txt"
    with gzip.open(folder / NCCI_FILE, "rt", encoding="utf-8") as source, ncci.open("w") as out:
        out.write(next(source))
        for line in source:
            cells = line.rstrip("\n").split("\t")
            if cells[0] in CLAIM_CODES and cells[1] in CLAIM_CODES and cells[4] == "*":
                cells[3] = "20240401"
                out.write("\t".join(cells) + "\n")
    mue = target / "mue-practitioner-2024q2-claims-slice.csv"
    with (folder / MUE_FILE).open(encoding="utf-8") as source, mue.open("w") as out:
        out.write(next(source))
        out.writelines(line for line in source if line.split(",", 1)[0] in CLAIM_CODES)
    pfs = target / "PPRRVU25_JAN1-claims-slice.csv"
    with (folder / PFS_FILE).open(encoding="latin-1") as source, pfs.open("w") as out:
        for number, line in enumerate(source):
            if number < PFS_PREAMBLE_ROWS or line.split(",", 1)[0] in CLAIM_CODES:
                out.write(line)
    return {"ncci": ncci, "mue": mue, "pfs": pfs}


def _import(format_name: str, path: Path) -> None:
    call_command("import_codes", format_name, str(path), stdout=StringIO(), stderr=StringIO())


@pytest.fixture
def claim_codes(db, facet_family) -> dict[str, Code]:
    """The codes of the worked examples: the facet family (64494's primary is 64493) and
    77003, 20610 and 99213."""
    group = make_group(facet_family["64493"].system, title="Other procedures")
    codes = dict(facet_family)
    for number, short in [
        ("77003", "Fluoroguide for spine inject"),
        ("20610", "Drain/inj joint/bursa w/o us"),
        ("99213", "Office o/p est low 20 min"),
    ]:
        codes[number] = make_code(number, system=group.system, group=group, short=short)
    return codes


@pytest.fixture
def real_edits(claim_codes, real_slices) -> dict[str, Code]:
    """The claim codes with their real NCCI edits, MUEs and 2025 fee schedule lines."""
    _import("cms-ncci-ptp", real_slices["ncci"])
    _import("cms-mue", real_slices["mue"])
    _import("cms-pfs-rvu", real_slices["pfs"])
    return claim_codes


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
