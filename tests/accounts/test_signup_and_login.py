"""Accounts through allauth: signup with a verification code, login, logout, bad input."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import User
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-pass-42"


def signup(client, email: str = "new.coder@example.com", password: str = PASSWORD, **extra):
    return client.post(
        "/accounts/signup/",
        {"email": email, "password1": password, "password2": password, **extra},
    )


def mailed_code() -> str:
    body = mail.outbox[-1].body
    return re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", body, re.MULTILINE).group(1)


def test_signup_mails_a_code_and_the_code_verifies_and_logs_in(client):
    response = signup(client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert len(mail.outbox) == 1
    user = User.objects.get(email="new.coder@example.com")
    assert not user.email_verified
    response = client.post("/accounts/confirm-email/", {"code": mailed_code()})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_verified
    assert client.get("/account/").context["usage"].remaining == 6


def test_wrong_code_is_a_form_error(client):
    signup(client)
    response = client.post("/accounts/confirm-email/", {"code": "XXXXXX"})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert not User.objects.get().email_verified


def test_signup_with_a_taken_email_is_a_form_error(client):
    make_user("taken@example.com")
    response = signup(client, email="taken@example.com")
    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    assert User.objects.count() == 1


@pytest.mark.parametrize("password", ["short", "password123", "1234567890123"])
def test_signup_with_a_weak_password_is_a_form_error(client, password):
    response = signup(client, password=password)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "email", ["not-an-email", "a@b", "x" * 300 + "@example.com", "a\x00@b.com"]
)
def test_signup_with_a_malformed_address_is_a_form_error(client, email):
    response = signup(client, email=email)
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not User.objects.exists()


def test_post_without_csrf_token_is_refused_with_a_clear_page(facet_family):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/signup/", {"email": "a@example.com"})
    assert response.status_code == 403
    assert "security token" in response.content.decode()
    assert not User.objects.exists()


def test_login_and_logout(client):
    make_user("coder@example.com", password=PASSWORD)
    response = client.post("/accounts/login/", {"login": "coder@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert "coder@example.com" in client.get("/").content.decode()
    client.post("/accounts/logout/")
    html = client.get("/").content.decode()
    assert "Register free account" in html and "coder@example.com" not in html


def test_header_offers_login_and_registration_to_guests(client):
    html = client.get("/").content.decode()
    assert "Log in" in html and "Register free account" in html


def test_failed_logins_are_rate_limited(client):
    make_user("coder@example.com", password=PASSWORD)
    for _ in range(6):
        last = client.post("/accounts/login/", {"login": "coder@example.com", "password": "wrong"})
    assert "Too many failed login attempts" in last.content.decode()
    # even the right password is refused while the limit holds
    right = client.post("/accounts/login/", {"login": "coder@example.com", "password": PASSWORD})
    assert right.status_code == 200 and "_auth_user_id" not in client.session


def test_password_reset_mails_a_link(client):
    make_user("coder@example.com")
    response = client.post("/accounts/password/reset/", {"email": "coder@example.com"})
    assert response.status_code == 302
    assert "/accounts/password/reset/key/" in mail.outbox[-1].body


def test_account_page_needs_login(client):
    response = client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_reaches_admin_after_allauth_login(client):
    make_user("editor@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    client.post("/accounts/login/", {"login": "editor@example.com", "password": PASSWORD})
    assert client.get("/admin/").status_code == 200


def test_staff_can_set_up_totp_two_factor_authentication(client):
    make_user("editor@example.com", password=PASSWORD, is_staff=True)
    client.post("/accounts/login/", {"login": "editor@example.com", "password": PASSWORD})
    response = client.get("/accounts/2fa/totp/activate/")
    if response.status_code == 302:  # a sensitive page asks for the password again
        assert response["Location"].startswith("/accounts/reauthenticate/")
        client.post(response["Location"], {"password": PASSWORD})
        response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 200
    assert "data:image/svg+xml" in response.content.decode()  # the QR code; the CSP allows it
