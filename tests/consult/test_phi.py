"""The PHI guard against its corpus: every identifier found, no coding text refused."""

from __future__ import annotations

import pytest

from consult.phi import phi_find, phi_highlight
from tests.consult.phi_corpus import CLEAN, PHI


def test_the_corpus_has_at_least_fifty_examples_both_ways():
    assert len(PHI) + len(CLEAN) >= 50
    assert len(PHI) >= 25 and len(CLEAN) >= 25


@pytest.mark.parametrize(("text", "identifier"), PHI)
def test_every_phi_example_is_refused_with_its_identifier_marked(text, identifier):
    findings = phi_find(text)
    spans = [text[f.start : f.end] for f in findings]
    assert any(identifier in span for span in spans), spans


@pytest.mark.parametrize("text", CLEAN)
def test_no_clean_coding_text_is_refused(text):
    assert phi_find(text) == []


def test_highlight_escapes_html_around_and_inside_the_marks():
    text = "<b>x</b> Mr. Jones <script>"
    html = phi_highlight(text, phi_find(text))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<mark class="phi-mark"' in html and "Mr. Jones" in html
