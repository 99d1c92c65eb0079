import pytest

pytestmark = pytest.mark.django_db


def test_code_page_shows_official_and_plain_descriptions(client, facet_family):
    response = client.get("/cpt/64494/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Official descriptor of 64494 as published." in html
    assert "Plain words about 64494." in html
    assert "© Copyright 2025 American Medical Association" in html
