"""The corpus, answered from the demo tables: every code an answer names exists in our tables,
every number in a fact stands in the source it cites, and guests get only what a guest sees."""

from __future__ import annotations

import datetime
import html
import re
from collections import Counter

import pytest
from django.test import Client

from assistant.answers import CODE_IN_TEXT, Answer, answer_build, codes_in_text
from codes.models import Code, MueValue, NcciEdit, RvuLine
from tests.assistant.corpus import CORPUS
from tests.factories import make_user

TODAY = datetime.date(2026, 6, 1)
ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
MODIFIER = re.compile(r"\b(?:[Mm]odifiers?|with) [0-9A-Z]{2}\b|^[0-9A-Z]{2} \(")
NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d])")


def _table_keys() -> set[str]:
    keys = set(Code.objects.values_list("key", flat=True))
    keys |= set(NcciEdit.objects.values_list("column1", flat=True))
    keys |= set(NcciEdit.objects.values_list("column2", flat=True))
    keys |= set(MueValue.objects.values_list("code", flat=True))
    keys |= set(RvuLine.objects.values_list("code", flat=True))
    return keys


def _answer_text(answer: Answer) -> str:
    parts = [answer.heading, answer.invite, *answer.notes]
    parts += [f"{fact.text} {fact.source} {fact.edition}" for fact in answer.facts]
    parts += [f"{hit.code} {hit.short}" for hit in answer.hits]
    return " ".join(parts)


def _numbers_missing(text: str, page: str) -> list[str]:
    """The numbers (and ISO dates) of `text` that do not stand in `page`."""
    missing = []
    for match in ISO.finditer(text):
        day = datetime.date(*(int(part) for part in match.groups()))
        if match.group(0) not in page and f"{day:%b} {day.day}, {day.year}" not in page:
            missing.append(match.group(0))
    # Codes and modifiers are names, not numbers.
    rest = MODIFIER.sub(" ", CODE_IN_TEXT.sub(" ", ISO.sub(" ", text)))
    found_in_page = {_norm(n) for n in NUMBER.findall(page)}
    missing += [n for n in NUMBER.findall(rest) if _norm(n) not in found_in_page]
    return missing


def _norm(number: str) -> str:
    return number if "." in number else str(int(number))


@pytest.mark.django_db
def test_every_corpus_answer_names_only_our_codes_and_cites_its_numbers(demo) -> None:
    assert len(CORPUS) >= 200
    keys = _table_keys()
    reader = Client()
    reader.force_login(make_user(is_staff=True))
    pages: dict[str, str] = {}
    problems: list[str] = []
    answered: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    for question, kind, context_key in CORPUS:
        context = (
            Code.objects.select_related("system", "group").get(key=context_key)
            if context_key
            else None
        )
        asked[kind] += 1
        answer = answer_build(text=question, today=TODAY, sections=True, context=context)
        if answer.kind == kind or (kind == "ncci" and answer.kind == "mue"):
            answered[kind] += 1
        else:
            problems.append(f"{question!r}: {answer.kind}, expected {kind}")
        strangers = codes_in_text(_answer_text(answer)) - keys
        if strangers:
            problems.append(f"{question!r} names codes not in our tables: {sorted(strangers)}")
        for fact in answer.facts:
            if not fact.url or not fact.edition:
                problems.append(f"{question!r}: a fact without a link or edition: {fact.text}")
                continue
            url = fact.url.split("#")[0]
            if url not in pages:
                response = reader.get(url)
                assert response.status_code == 200, url
                pages[url] = html.unescape(response.content.decode())
            missing = _numbers_missing(fact.text, pages[url])
            if missing:
                problems.append(f"{question!r}: {missing} not in {url}: {fact.text}")
    print("asked", dict(asked), "answered", dict(answered))
    assert problems == [], "\n".join(problems)


@pytest.mark.django_db
def test_a_guest_answer_holds_no_section_facts(demo) -> None:
    for question, _kind, context_key in CORPUS:
        context = Code.objects.filter(key=context_key).first() if context_key else None
        answer = answer_build(text=question, today=TODAY, sections=False, context=context)
        for fact in answer.facts:
            assert "#" not in fact.url, (question, fact.url)
            assert "$" not in fact.text and "RVU" not in fact.text, question
        assert "editors" not in " ".join(fact.edition for fact in answer.facts), question
