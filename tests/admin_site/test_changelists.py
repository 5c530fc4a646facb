"""The staff workflow as a whole: every admin changelist is staff-only, and runs a bounded number
of queries whatever the number of rows (no N+1 through related names)."""

import itertools

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import (
    CommentFactory,
    LikeFactory,
    PlaylistVideoFactory,
    SubscriptionFactory,
    TweetFactory,
    UserFactory,
    VideoFactory,
)

pytestmark = pytest.mark.django_db
_serial = itertools.count()


def _access(model, **extra):
    n = next(_serial)
    return model.objects.create(
        user_agent=f"agent-{n}",
        ip_address="198.51.100.1",
        username=f"u{n}",
        http_accept="*/*",
        path_info="/api/v1/user/login",
        **extra,
    )


def _blacklisted():
    token = RefreshToken.for_user(UserFactory())
    token.blacklist()


# How to make one row of each registered model (with its related rows, so names are joined).
ROW_MAKERS = {
    "accounts.User": UserFactory,
    "videos.Video": VideoFactory,
    "social.Comment": CommentFactory,
    "social.Tweet": TweetFactory,
    "social.Like": lambda: LikeFactory(video=VideoFactory()),
    "social.Subscription": SubscriptionFactory,
    "playlists.Playlist": lambda: PlaylistVideoFactory().playlist,
    "auth.Group": lambda: Group.objects.create(name=f"group-{next(_serial)}"),
    "token_blacklist.OutstandingToken": lambda: RefreshToken.for_user(UserFactory()),
    "token_blacklist.BlacklistedToken": _blacklisted,
    "axes.AccessAttempt": lambda: _access(
        AccessAttempt, get_data="", post_data="", failures_since_start=1
    ),
    "axes.AccessLog": lambda: _access(AccessLog),
    "axes.AccessFailureLog": lambda: _access(AccessFailureLog),
}


def _changelist_url(model):
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(UserFactory(username="moderator", is_staff=True, is_superuser=True))
    return client


def test_every_registered_model_has_a_row_maker():
    assert {model._meta.label for model in REGISTERED} == set(ROW_MAKERS)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_changelist_query_count_does_not_grow_with_rows(model, superuser_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make = ROW_MAKERS[model._meta.label]
    counts = []
    for total in (3, 25):
        while model.objects.count() < total:
            make()
        with CaptureQueriesContext(connection) as captured:
            response = superuser_client.get(_changelist_url(model), {"q": ""})
        assert response.status_code == 200, model
        assert len(response.context["cl"].result_list) >= 3
        counts.append(len(captured))
    # Session, user, counts and the page: the same whether 3 or 25 rows are listed.
    assert counts[1] == counts[0], f"{model._meta.label}: {counts} queries for 3 vs 25 rows"


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_non_staff_users_get_nothing(model):
    client = Client()
    client.force_login(UserFactory(is_staff=False))
    response = client.get(_changelist_url(model))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    anonymous = Client().get(_changelist_url(model))
    assert anonymous.status_code == 302


def test_non_staff_cannot_reach_the_index_or_act():
    user = UserFactory(is_staff=False)
    victim = VideoFactory()
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 302
    response = client.post(
        "/admin/videos/video/",
        {"action": "delete_selected", "_selected_action": [victim.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert victim.__class__.objects.filter(pk=victim.pk).exists()
