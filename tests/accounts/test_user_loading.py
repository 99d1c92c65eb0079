"""Loading the signed-in account: `User.objects.get(pk=…)`, which every signed-in request
makes through django.contrib.auth, is one SELECT that brings the plan along."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user
from django.test import RequestFactory

from accounts.models import User
from tests.factories import make_plan, make_user

pytestmark = pytest.mark.django_db


def test_an_account_comes_with_its_plan_in_one_query(django_assert_num_queries):
    plan = make_plan(views=40)
    user = make_user(plan=plan, bonus_views=3)
    with django_assert_num_queries(1):
        loaded = User.objects.get(pk=str(user.pk))  # as the session keeps it
        assert loaded.plan.views_per_period == 40 and loaded.plan.name == plan.name
    assert (loaded.pk, loaded.email, loaded.bonus_views) == (user.pk, user.email, 3)
    assert loaded.password == user.password and loaded.email_verified
    assert not loaded._state.adding  # saving it updates the row
    loaded.name = "Renamed"
    loaded.save()
    assert User.objects.filter(name="Renamed").count() == 1


def test_a_free_account_has_no_plan_and_costs_no_second_query(django_assert_num_queries):
    user = make_user()
    with django_assert_num_queries(1):
        assert User.objects.get(pk=user.pk).plan is None


def test_an_unknown_account_is_does_not_exist():
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=10**9)


def test_other_look_ups_are_the_orms():
    user = make_user(email="coder@example.com")
    assert User.objects.get(email="coder@example.com") == user
    assert User.objects.filter(is_active=True).get(pk=user.pk) == user
    with pytest.raises(User.DoesNotExist):
        User.objects.filter(is_active=False).get(pk=user.pk)


def test_the_session_signs_the_account_in(client):
    user = make_user()
    client.force_login(user)
    request = RequestFactory().get("/")
    request.session = client.session
    assert get_user(request) == user
    user.set_password("a-new-password-4711")
    user.save()
    assert not get_user(request).is_authenticated  # the session hash no longer matches
