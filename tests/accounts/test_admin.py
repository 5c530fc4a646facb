"""The User admin: listing, searching, filtering, moderation action, add and password forms."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from tests.conftest import bearer_client, tokens_for
from tests.factories import DEFAULT_PASSWORD, UserFactory

from .support import API, STRONG_PASSWORD, assert_error

pytestmark = pytest.mark.django_db
User = get_user_model()
CHANGELIST = "/admin/accounts/user/"


def _changelist_queries(admin_client, django_assert_num_queries, count):
    UserFactory.create_batch(count)
    # 1 the session, 2 the staff user, 3 COUNT (filtered), 4 COUNT (all), 5 the page rows:
    # a fixed number whatever the number of rows.
    with django_assert_num_queries(5) as captured:
        response = admin_client.get(CHANGELIST, {"all": ""})
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_changelist_queries_do_not_grow_with_the_page(admin_client, django_assert_num_queries):
    small = _changelist_queries(admin_client, django_assert_num_queries, 3)
    large = _changelist_queries(admin_client, django_assert_num_queries, 40)

    assert small == large


def test_changelist_shows_the_moderation_columns(admin_client):
    UserFactory(username="alice", email="alice@example.com", fullname="Alice Liddell")

    content = admin_client.get(CHANGELIST).content.decode()

    for text in (
        "alice",
        "alice@example.com",
        "Alice Liddell",
        "column-is_active",
        "column-is_staff",
        "column-created_at",
    ):
        assert text in content


def test_changelist_searches_username_email_and_fullname(admin_client):
    UserFactory(username="alice", email="a1@example.com", fullname="Wonderland Girl")
    UserFactory(username="bob", email="builder@example.org", fullname="Bob Builder")

    for query, expected, unexpected in [
        ("alice", "alice", "bob"),
        ("builder@example", "bob", "alice"),
        ("Wonderland", "alice", "bob"),
    ]:
        result = admin_client.get(CHANGELIST, {"q": query}).context["cl"].result_list
        usernames = {user.username for user in result}
        assert expected in usernames and unexpected not in usernames


def test_changelist_filters_by_active_and_staff(admin_client):
    UserFactory(username="sleeper", is_active=False)
    UserFactory(username="helper", is_staff=True)

    inactive = admin_client.get(CHANGELIST, {"is_active__exact": "0"}).context["cl"].result_list
    staff = admin_client.get(CHANGELIST, {"is_staff__exact": "1"}).context["cl"].result_list

    assert [user.username for user in inactive] == ["sleeper"]
    assert {user.username for user in staff} == {"helper", "root"}


def test_deactivate_action_blocks_login_and_kills_existing_tokens(admin_client, api_client):
    target, bystander = UserFactory(), UserFactory()
    _, refresh = tokens_for(target)
    target_client = bearer_client(target)

    response = admin_client.post(
        CHANGELIST,
        {"action": "deactivate_users", "_selected_action": [str(target.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 user(s) deactivated." in response.content.decode()
    target.refresh_from_db()
    bystander.refresh_from_db()
    assert target.is_active is False and bystander.is_active is True
    assert OutstandingToken.objects.filter(user=target, blacklistedtoken__isnull=True).count() == 0
    assert_error(target_client.get(f"{API}/current-user-details"), 401)
    assert_error(
        api_client.post(f"{API}/refresh-token", {"refreshToken": refresh}, format="json"),
        401,
        "Invalid refresh token",
    )
    login = api_client.post(
        f"{API}/login", {"username": target.username, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert_error(login, 401, "Invalid credentials")
    assert bearer_client(bystander).get(f"{API}/current-user-details").status_code == 200


def test_add_user_form_normalises_and_hashes(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "  New.Staffer ",
            "email": "New.Staffer@Example.com",
            "fullname": "New Staffer",
            "usable_password": "true",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="new.staffer")
    assert user.email == "new.staffer@example.com"
    assert user.check_password(STRONG_PASSWORD)


def test_add_user_form_refuses_an_email_taken_in_another_case(admin_client):
    UserFactory(email="taken@example.com")

    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "someone",
            "email": "TAKEN@example.com",
            "fullname": "Some One",
            "usable_password": "true",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"] == [
        "A user with that email already exists."
    ]
    assert not User.objects.filter(username="someone").exists()


def test_change_form_shows_counters_read_only(admin_client):
    user = UserFactory(subscribers_count=7)

    response = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "subscribers_count" not in form.fields and "created_at" not in form.fields
    assert "is_active" in form.fields
    assert ">7<" in response.content.decode().replace(" ", "")


def test_admin_password_change_form_sets_the_password_and_revokes_tokens(admin_client):
    user = UserFactory()
    old_client = bearer_client(user)

    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"usable_password": "true", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    assert_error(old_client.get(f"{API}/current-user-details"), 401)


def test_the_admin_is_closed_to_non_staff(client):
    client.force_login(UserFactory())

    response = client.get(CHANGELIST)

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_permissions_cannot_deactivate(client):
    helper = UserFactory(is_staff=True)
    target = UserFactory()
    client.force_login(helper)

    response = client.post(
        CHANGELIST, {"action": "deactivate_users", "_selected_action": [str(target.pk)]}
    )

    assert response.status_code == 403
    target.refresh_from_db()
    assert target.is_active is True


def test_deleting_users_removes_their_media_and_keeps_other_counters_exact(
    admin_client, settings, django_capture_on_commit_callbacks
):
    from pathlib import Path

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from media.storage import video_storage
    from social.services import comment_create, subscription_toggle, video_like_toggle
    from tests.factories import VideoFactory
    from videos.models import Video

    doomed = UserFactory(avatar=default_storage.save("avatars/doomed.png", ContentFile(b"x")))
    survivor = UserFactory()
    own_video = VideoFactory(
        owner=doomed,
        video_file=video_storage.save("videos/doomed.mp4", ContentFile(b"v")),
        thumbnail=default_storage.save("thumbnails/doomed.png", ContentFile(b"t")),
    )
    survivors_video = VideoFactory(owner=survivor)
    video_like_toggle(video_id=survivors_video.pk, user=doomed)
    comment_create(video_id=survivors_video.pk, author=doomed, content="bye")
    subscription_toggle(subscriber=doomed, channel_id=survivor.pk)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST,
            {"action": "delete_selected", "_selected_action": [doomed.pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert not User.objects.filter(pk=doomed.pk).exists()
    assert not Video.objects.filter(pk=own_video.pk).exists()
    survivors_video.refresh_from_db()
    survivor.refresh_from_db()
    assert (survivors_video.likes_count, survivors_video.comments_count) == (0, 0)
    assert survivor.subscribers_count == 0
    media = Path(settings.MEDIA_ROOT)
    assert sorted(p.name for p in media.rglob("*") if p.is_file()) == []
