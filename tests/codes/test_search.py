"""Case2Code search through /search/: codes, prefixes, ranges, words, typos, synonyms, filters."""

from __future__ import annotations

import re

import pytest

from accounts.models import Meter, Unlock
from codes.models import Code, SearchSynonym
from tests.factories import make_code, make_group, make_system

pytestmark = pytest.mark.django_db

FACET = (
    "Injection(s), diagnostic or therapeutic agent, paravertebral facet (zygapophyseal) joint "
    "(or nerves innervating that joint) with image guidance (fluoroscopy or CT), {region}; {level}"
)
ADDON = " (List separately in addition to code for primary procedure)"
FACET_CODES = {
    "64490": ("Inj paravert f jnt c/t 1 lev", "cervical or thoracic", "single level", ""),
    "64491": ("Inj paravert f jnt c/t 2 lev", "cervical or thoracic", "second level", ADDON),
    "64492": (
        "Inj paravert f jnt c/t 3 lev",
        "cervical or thoracic",
        "third and any additional level(s)",
        ADDON,
    ),
    "64493": ("Inj paravert f jnt l/s 1 lev", "lumbar or sacral", "single level", ""),
    "64494": ("Inj paravert f jnt l/s 2 lev", "lumbar or sacral", "second level", ADDON),
    "64495": (
        "Inj paravert f jnt l/s 3 lev",
        "lumbar or sacral",
        "third and any additional level(s)",
        ADDON,
    ),
}
FACET_PLAIN = {
    "c": "A facet joint injection in the neck or upper back, or a block of the nerves that supply "
    "the joint, under fluoroscopic or CT guidance. The lumbar and sacral levels are "
    "reported with 64493-64495.",
    "l": "A facet joint injection in the lower back, or a block of the medial branch nerves that "
    "supply the joint, under fluoroscopic or CT guidance. It is done to find or treat the "
    "source of back pain.",
}


@pytest.fixture
def catalogue(facet_family, many_codes, cpt) -> dict[str, Code]:
    """The facet family with its real descriptors, the office visits, and codes that compete
    with them for the same words: an epidural injection, a knee injection, a diagnosis whose
    explanation talks about lumbar facet injections, HCPCS J1100 and ICD-10-CM J11.00."""
    for number, (short, region, level, addon) in FACET_CODES.items():
        Code.objects.filter(system=cpt, key=number).update(
            short_descriptor=short,
            long_descriptor=FACET.format(region=region, level=level) + addon,
            plain_language=FACET_PLAIN["c" if region.startswith("c") else "l"],
        )
    visits = {
        "99212": ("Office o/p est sf 10 min", "straightforward", 10),
        "99213": ("Office o/p est low 20 min", "low level of", 20),
        "99214": ("Office o/p est mod 30 min", "moderate level of", 30),
        "99215": ("Office o/p est hi 40 min", "high level of", 40),
    }
    office = Code.objects.get(system=cpt, key="99202").group
    for number, (short, level, minutes) in visits.items():
        make_code(
            number,
            system=cpt,
            group=office,
            short=short,
            long=(
                "Office or other outpatient visit for the evaluation and management of an "
                "established patient, which requires a medically appropriate history and/or "
                f"examination and {level} medical decision making. When using total time on "
                f"the date of the encounter for code selection, {minutes} minutes must be met "
                "or exceeded."
            ),
            plain=f"A visit with an established patient at {level} complexity.",
        )
    spine = make_group(cpt, title="Spine injections", code_from="62320", code_to="62327")
    made = {
        "62323": make_code(
            "62323",
            system=cpt,
            group=spine,
            short="Njx interlaminar lmbr/sac",
            long="Injection(s), of diagnostic or therapeutic substance(s), interlaminar epidural "
            "or subarachnoid, lumbar or sacral (caudal); with imaging guidance",
            plain="An epidural steroid injection in the lower back under imaging guidance.",
        ),
        "20610": make_code(
            "20610",
            system=cpt,
            short="Drain/inj joint/bursa w/o us",
            long="Arthrocentesis, aspiration and/or injection, major joint or bursa (eg, "
            "shoulder, hip, knee, subacromial bursa); without ultrasound guidance",
            plain="A needle into a large joint such as the knee, to drain fluid or inject it.",
        ),
    }
    icd = make_system("icd10cm")
    hcpcs = make_system("hcpcs")
    made["M47.816"] = make_code(
        "M47.816",
        system=icd,
        short="Spondylosis w/o myelopathy or radiculopathy, lumbar region",
        long="Spondylosis without myelopathy or radiculopathy, lumbar region",
        plain="Wear of the lumbar spine, the diagnosis most often linked to lumbar facet "
        "injections (64493-64495) and lumbar facet injection series.",
    )
    made["J11.00"] = make_code(
        "J11.00",
        system=icd,
        short="Flu due to unidentified influenza virus w unsp type pneu",
        long="Influenza due to unidentified influenza virus with unspecified type of pneumonia",
        plain="Influenza with pneumonia when the virus was not identified.",
    )
    made["J1100"] = make_code(
        "J1100",
        system=hcpcs,
        short="Dexamethasone sodium phos",
        long="Injection, dexamethasone sodium phosphate, 1 mg",
        plain="Dexamethasone, a corticosteroid, given by injection; one unit per milligram.",
    )
    made["M54.5"] = make_code(
        "M54.5",
        system=icd,
        short="Low back pain",
        is_billable=False,
        long="Low back pain",
        plain="The category for low back pain.",
    )
    for number, short in [
        ("M54.50", "Low back pain, unspecified"),
        ("M54.51", "Vertebrogenic low back pain"),
        ("M54.59", "Other low back pain"),
    ]:
        made[number] = make_code(
            number, system=icd, short=short, long=short, plain=f"{short}, as documented."
        )
    for term, expansion in [
        ("inj", "injection"),
        ("l/s", "lumbar sacral"),
        ("w/", "with"),
        ("eval", "evaluation"),
        ("e/m", "evaluation management"),
        ("est", "established"),
        ("njx", "injection"),
    ]:
        SearchSynonym.objects.create(term=term, expansion=expansion)
    codes = {code.code: code for code in Code.objects.select_related("system")}
    return codes


def listed(response) -> list[str]:
    return re.findall(r'class="search-result__code">([^<]+)<', response.content.decode())


def search(client, q: str, **params):
    return client.get("/search/", {"q": q, **params})


# --- Codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "page"),
    [
        ("64494", "/cpt/64494/"),
        ("j1100", "/hcpcs/J1100/"),
        ("J1100", "/hcpcs/J1100/"),
        ("J11.00", "/icd-10-cm/J11.00/"),
        ("j11.00", "/icd-10-cm/J11.00/"),
        ("M54.50", "/icd-10-cm/M54.50/"),
        ("m5450", "/icd-10-cm/M54.50/"),
        (" 64494 ", "/cpt/64494/"),
    ],
)
def test_an_exact_code_redirects_to_its_canonical_page(client, catalogue, typed, page):
    response = search(client, typed)
    assert response.status_code == 302
    assert response["Location"] == page


def test_an_exact_code_redirect_takes_one_query(client, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        assert search(client, "64494").status_code == 302


def test_a_key_in_several_systems_spelled_like_neither_lists_them_all(client, catalogue):
    response = search(client, "J110.0")  # key J1100: HCPCS J1100 and ICD-10-CM J11.00
    assert response.status_code == 200
    assert listed(response) == ["J1100", "J11.00"]
    assert "is a code in more than one code set" in response.content.decode()


def test_a_system_filter_decides_between_look_alike_codes(client, catalogue):
    response = search(client, "j1100", system="icd10cm")
    assert response["Location"] == "/icd-10-cm/J11.00/"


def test_a_deleted_code_still_redirects_to_its_page(client, catalogue, cpt):
    make_code("0001T", system=cpt, status="deleted")
    assert search(client, "0001t")["Location"] == "/cpt/0001T/"


def test_a_prefix_lists_matching_codes_in_code_order(client, catalogue):
    response = search(client, "6449")
    assert response.status_code == 200
    assert listed(response) == ["64490", "64491", "64492", "64493", "64494", "64495"]
    assert "6 codes starting with 6449" in response.content.decode()


def test_an_icd_prefix_with_its_dot_lists_the_codes_under_a_header(client, catalogue):
    response = search(client, "M54.5")
    assert listed(response) == ["M54.5", "M54.50", "M54.51", "M54.59"]


def test_a_trailing_star_reads_as_a_prefix(client, catalogue):
    assert listed(search(client, "6449*"))[0] == "64490"


def test_a_prefix_search_takes_few_queries(client, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # exact look-up, page ids, page rows, code sets
        assert listed(search(client, "6449"))


def test_a_range_lists_the_codes_in_it(client, catalogue):
    response = search(client, "64490-64495")
    assert listed(response) == ["64490", "64491", "64492", "64493", "64494", "64495"]


def test_a_range_with_an_en_dash_and_spaces_works_too(client, catalogue):
    codes = listed(search(client, "99202 – 99215"))
    assert codes == [f"992{n:02d}" for n in range(2, 16)]


def test_a_reversed_range_is_read_low_to_high(client, catalogue):
    assert listed(search(client, "64495-64493")) == ["64493", "64494", "64495"]


def test_an_icd_range_includes_the_codes_under_its_last_category(client, catalogue):
    assert listed(search(client, "M54.0-M54.5")) == ["M54.5", "M54.50", "M54.51", "M54.59"]


def test_a_list_of_codes_shows_those_codes_and_names_the_missing(client, catalogue):
    response = search(client, "99213, 64494 99999")
    assert listed(response) == ["64494", "99213"]
    assert "not found: 99999" in response.content.decode()


def test_a_code_that_does_not_exist_offers_codes_that_look_close(client, catalogue):
    response = search(client, "64499")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No active codes match" in html
    assert "Codes that look close" in html and "/cpt/64490/" in html


# --- Words ------------------------------------------------------------------------------------


def test_words_find_codes_through_their_official_descriptor(client, catalogue):
    codes = listed(search(client, "zygapophyseal"))
    assert sorted(codes) == ["64490", "64491", "64492", "64493", "64494", "64495"]


def test_words_are_stemmed(client, catalogue):
    assert "20610" in listed(search(client, "injections aspirations"))


def test_lumbar_facet_injection_ranks_the_facet_family_first(client, catalogue):
    codes = listed(search(client, "lumbar facet injection"))
    assert set(codes[:3]) == {"64493", "64494", "64495"}
    assert set(codes[:6]) == set(FACET_CODES)
    assert codes.index("M47.816") > 5  # its explanation mentions them; it is not one of them


def test_the_second_level_facet_code_comes_first_for_its_own_words(client, catalogue):
    codes = listed(search(client, "facet joint injection lumbar second level"))
    assert codes[0] == "64494"


def test_office_visit_words_find_the_visit_with_that_time(client, catalogue):
    codes = listed(search(client, "office visit established 20 minutes"))
    assert codes[0] == "99213"


def test_matched_words_are_highlighted_in_title_and_snippet(client, catalogue):
    html = search(client, "lumbar injection").content.decode()
    assert "<mark>injection</mark> in the lower back" in html  # snippet of 64493
    assert "<mark>lumbar</mark>" in html


def test_a_typo_still_finds_the_family(client, catalogue):
    response = search(client, "paravertbral")
    codes = listed(response)
    assert set(codes[:6]) == set(FACET_CODES)


def test_a_typo_among_right_words_is_respelled(client, catalogue):
    response = search(client, "lumbar facet injecton")
    assert set(listed(response)[:3]) == {"64493", "64494", "64495"}
    assert "Showing" in response.content.decode()


def test_synonyms_expand_what_coders_abbreviate(client, catalogue):
    codes = listed(search(client, "inj l/s"))
    assert set(codes[:3]) == {"64493", "64494", "64495"}


def test_a_synonym_added_by_an_editor_is_used_at_once(client, catalogue):
    assert listed(search(client, "zyg")) == []
    SearchSynonym.objects.create(term="zyg", expansion="zygapophyseal")
    assert len(listed(search(client, "zyg"))) == 6


def test_e_m_and_eval_are_understood(client, catalogue):
    assert "99213" in listed(search(client, "e/m est 20 minutes"))


def test_words_match_all_but_one_when_none_holds_all(client, catalogue):
    response = search(client, "knee injection zygapophyseal")  # no code holds all three
    codes = listed(response)
    assert "20610" in codes and "64494" in codes
    assert "all of your words but one" in response.content.decode()


def test_a_misspelled_word_is_searched_as_its_closest_spelling(client, catalogue):
    response = search(client, "dexamethazone")
    assert listed(response) == ["J1100"]
    assert "Showing 1 code for <strong>dexamethasone</strong>" in response.content.decode()


def test_nothing_found_says_so_and_suggests_close_spellings(client, catalogue):
    response = search(client, "xyzzyq qqqzzv")
    html = response.content.decode()
    assert response.status_code == 200
    assert "No active codes match" in html
    assert "How to search" in html


def test_no_results_suggests_a_close_spelling(client, catalogue):
    response = search(client, "dexamethazone", system="icd10cm")  # respelled, none there
    html = response.content.decode()
    assert "No active codes match" in html
    assert 'Did you mean <a href="/search/?q=dexamethasone">dexamethasone</a>?' in html


def test_a_words_search_takes_few_queries(client, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # synonyms, ranked ids, rows, code sets
        assert listed(search(client, "lumbar facet injection"))


def test_a_respelled_search_takes_few_queries(client, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        assert listed(search(client, "lumbar facet injecton"))


# --- Filters and pages -------------------------------------------------------------------------


def test_the_system_filter_keeps_one_code_set(client, catalogue):
    codes = listed(search(client, "injection", system="icd10cm"))
    assert codes == ["M47.816"]


def test_the_system_filter_takes_url_spellings_too(client, catalogue):
    assert listed(search(client, "injection", system="icd-10-cm")) == ["M47.816"]


def test_deleted_codes_are_left_out_unless_asked_for(client, catalogue, cpt):
    make_code(
        "64479",
        system=cpt,
        status="deleted",
        short="Inj foramen epidural c/t",
        long="Injection, transforaminal epidural, cervical or thoracic",
        plain="A deleted transforaminal injection code.",
    )
    assert "64479" not in listed(search(client, "transforaminal"))
    assert listed(search(client, "transforaminal", status="deleted")) == ["64479"]
    assert "64479" in listed(search(client, "transforaminal", status="all"))


def test_the_group_filter_searches_within_a_branch_of_the_tree(client, catalogue):
    family = Code.objects.get(key="64494").group
    surgery = family.parent.parent
    within_family = listed(search(client, "injection", system="cpt", group=family.slug))
    assert sorted(within_family) == sorted(FACET_CODES)
    within_surgery = listed(search(client, "injection", system="cpt", group=surgery.slug))
    assert "20610" not in within_surgery and "64494" in within_surgery


def test_an_empty_query_in_a_group_lists_its_codes(client, catalogue):
    family = Code.objects.get(key="64494").group
    assert listed(search(client, "", system="cpt", group=family.slug)) == sorted(FACET_CODES)


def test_results_are_paginated(client, cpt):
    group = make_group(cpt, title="Many")
    for n in range(60):
        make_code(f"1{n:04d}", system=cpt, group=group, short=f"Repair wound {n}")
    first = search(client, "1")
    assert len(listed(first)) == 25
    assert "Page 1 of 3" in first.content.decode()
    third = search(client, "1", page="3")
    assert listed(third) == [f"1{n:04d}" for n in range(50, 60)]
    assert 'rel="prev"' in third.content.decode() and 'rel="next"' not in third.content.decode()


def test_word_results_are_paginated_in_rank_order(client, cpt):
    for n in range(30):
        make_code(f"2{n:04d}", system=cpt, short=f"Repair wound {n}")
    first, second = (
        listed(search(client, "repair wound")),
        listed(search(client, "repair wound", page="2")),
    )
    assert len(first) == 25 and len(second) == 5
    assert not set(first) & set(second)


# --- Free, and never the official descriptor ---------------------------------------------------


def test_searching_never_spends_a_view(client, catalogue):
    for q in ["64494", "6449", "64490-64495", "lumbar facet injection", "paravertbral", ""]:
        search(client, q)
    client.get("/cpt/")
    assert Meter.objects.count() == 0 and Unlock.objects.count() == 0
    assert "quota_guest" not in client.session


def test_the_search_page_is_not_metered_by_url_name(settings):
    from django.urls import resolve

    assert resolve("/search/").view_name not in settings.QUOTA_METERED_URL_NAMES
    assert resolve("/search/suggest/").view_name not in settings.QUOTA_METERED_URL_NAMES


def test_results_show_our_first_sentence_never_the_official_descriptor(client, catalogue):
    html = search(client, "zygapophyseal").content.decode()
    assert "A facet joint injection in the lower back" in html
    assert "innervating" not in html and "zygapophyseal)" not in html
    assert "It is done to find" not in html  # only the first sentence


def test_a_guest_with_no_views_left_still_searches_and_sees_no_metered_text(client, catalogue):
    client.get("/cpt/64490/")  # the guest's one view
    html = search(client, "lumbar facet injection").content.decode()
    assert search(client, "lumbar facet injection").status_code == 200
    assert "paravert f jnt l/s 2 lev" in html
    assert "(List separately in addition" not in html
    assert Meter.objects.get().used == 1


def test_search_hits_do_not_even_load_the_official_descriptor(catalogue):
    from codes import search as case2code

    outcome = case2code.search_run(
        query=case2code.query_parse(raw="lumbar facet injection"),
        filters=case2code.SearchFilters(),
    )
    assert outcome.hits
    assert all("long_descriptor" in hit.get_deferred_fields() for hit in outcome.hits)
