"""Object properties: what a client may read and write of each object.

Mass assignment: every body-taking write gets, beside one legitimate change, every field a
client may not set (counters, owners, ids, timestamps, flags); the row is re-read from the
database and only the legitimate field (and ``updated_at``) may differ. A 200 proves nothing on
its own: DRF silently ignores unknown fields, so the comparison is the test.

Exposure: no answer that shows another person carries their email, staff flags, password hash
or tokens; one's own channel profile and account do show the email.
"""

import json
import uuid

import pytest
from django.contrib.auth import get_user_model

from playlists.models import Playlist
from social.models import Comment, Tweet
from tests.conftest import image_upload, video_upload
from tests.factories import DEFAULT_PASSWORD, LikeFactory, WatchHistoryFactory
from tests.security.world import build_world
from videos.models import Video

pytestmark = pytest.mark.django_db

User = get_user_model()
STRANGER_ID = "0190f0b4-0000-7000-8000-000000000000"
# Names a client might try for fields it may not set: camelCase (API) and snake_case (model).
FORBIDDEN = {
    "id": STRANGER_ID,
    "views": 999_999,
    "userId": STRANGER_ID,
    "user_id": STRANGER_ID,
    "owner": STRANGER_ID,
    "owner_id": STRANGER_ID,
    "author": STRANGER_ID,
    "author_id": STRANGER_ID,
    "video": STRANGER_ID,
    "videoId": STRANGER_ID,
    "likesCount": 999,
    "likes_count": 999,
    "commentsCount": 999,
    "comments_count": 999,
    "totalVideos": 999,
    "duration": 4242,
    "createdAt": "2001-01-01T00:00:00.000Z",
    "created_at": "2001-01-01T00:00:00.000Z",
    "updatedAt": "2001-01-01T00:00:00.000Z",
    "is_staff": True,
    "is_superuser": True,
    "isStaff": True,
    "subscribersCount": 999,
    "subscribers_count": 999,
    "subscriptionsCount": 999,
    "videoFile": "videos/elsewhere.mp4",
    "video_file": "videos/elsewhere.mp4",
    "videoFileUrl": "https://attacker.example/v.mp4",
    "thumbnailUrl": "https://attacker.example/t.png",
}


def _row(instance):
    return type(instance).objects.filter(pk=instance.pk).values().get()


def _assert_only_changed(before, after, allowed):
    """Columns outside ``allowed`` are exactly as before (``search_vector`` follows the title
    and description through the database trigger)."""
    ignored = set(allowed) | {"updated_at", "search_vector"}
    assert {k: v for k, v in after.items() if k not in ignored} == {
        k: v for k, v in before.items() if k not in ignored
    }


def test_video_patch_changes_the_title_and_nothing_else():
    world = build_world()
    video = world["published"]
    before = _row(video)
    body = {**FORBIDDEN, "isPublished": False, "is_published": False, "title": "New title"}

    response = world.client("owner").patch(f"/api/v1/videos/{video.pk}", body, format="json")

    assert response.status_code == 200
    after = _row(video)
    assert after["title"] == "New title"
    # isPublished only through PATCH /videos/toggle/publish/:id, not the update body.
    _assert_only_changed(before, after, {"title"})
    assert response.json()["data"]["isPublished"] is True


def test_video_patch_multipart_changes_the_title_and_nothing_else():
    world = build_world()
    video = world["published"]
    before = _row(video)
    body = {**FORBIDDEN, "isPublished": "false", "title": "Multipart title"}

    response = world.client("owner").patch(f"/api/v1/videos/{video.pk}", body, format="multipart")

    assert response.status_code == 200
    after = _row(video)
    assert after["title"] == "Multipart title"
    _assert_only_changed(before, after, {"title"})


def test_publishing_ignores_owner_counters_and_ids():
    world = build_world()
    body = {
        **FORBIDDEN,
        "title": "Fresh upload",
        "videoFile": video_upload(),
        "thumbnail": image_upload("thumb.png"),
    }

    response = world.client("other").post("/api/v1/videos", body, format="multipart")

    assert response.status_code == 201, response.content[:300]
    video = Video.objects.get(title="Fresh upload")
    assert str(video.pk) != STRANGER_ID
    assert video.owner == world["other"]
    assert (video.views, video.likes_count, video.comments_count) == (0, 0, 0)
    assert video.duration != 4242  # probed from the file, not taken from the body
    assert video.video_file.name != "videos/elsewhere.mp4"
    assert video.created_at.year != 2001


def test_update_account_changes_the_fullname_and_nothing_else():
    world = build_world()
    owner = world["owner"]
    before = _row(owner)
    body = {
        **FORBIDDEN,
        "is_active": False,
        "isActive": False,
        "password": "Stolen-passphrase-123",
        "avatar": "https://attacker.example/a.png",
        "coverImage": "https://attacker.example/c.png",
        "cover_image": "covers/elsewhere.png",
        "last_login": "2001-01-01T00:00:00Z",
        "fullname": "Renamed Person",
    }

    response = world.client("owner").patch("/api/v1/user/update-account", body, format="json")

    assert response.status_code == 200
    after = _row(owner)
    assert after["fullname"] == "Renamed Person"
    _assert_only_changed(before, after, {"fullname"})
    owner.refresh_from_db()
    assert owner.check_password(DEFAULT_PASSWORD)
    assert not owner.is_staff and not owner.is_superuser and owner.is_active


def test_register_cannot_make_a_staff_member():
    world = build_world()
    body = {
        **FORBIDDEN,
        "is_active": False,
        "username": "upstart",
        "email": "upstart@example.com",
        "fullname": "Up Start",
        "password": "An-unguessable-passphrase-9",
        "avatar": image_upload("avatar.png"),
    }

    response = world.client("anon").post("/api/v1/user/register", body, format="multipart")

    assert response.status_code == 201, response.content[:300]
    user = User.objects.get(username="upstart")
    assert str(user.pk) != STRANGER_ID
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
    assert (user.subscribers_count, user.subscriptions_count) == (0, 0)
    assert user.created_at.year != 2001


@pytest.mark.parametrize(
    ("model", "url", "field", "object_name"),
    [
        (Comment, "/api/v1/comments/c/{}", "content", "comment"),
        (Tweet, "/api/v1/tweets/{}", "content", "tweet"),
        (Playlist, "/api/v1/playlist/{}", "name", "playlist"),
    ],
    ids=["comment", "tweet", "playlist"],
)
def test_edits_change_only_their_text(model, url, field, object_name):
    world = build_world()
    instance = world[object_name]
    before = _row(instance)

    response = world.client("owner").patch(
        url.format(instance.pk), {**FORBIDDEN, field: "Only this changes"}, format="json"
    )

    assert response.status_code == 200
    after = _row(instance)
    assert after[field] == "Only this changes"
    _assert_only_changed(before, after, {field})


@pytest.mark.parametrize(
    ("url", "body", "model", "lookup"),
    [
        ("/api/v1/tweets", {"content": "Created"}, Tweet, {"content": "Created"}),
        ("/api/v1/playlist", {"name": "Created"}, Playlist, {"name": "Created"}),
        ("/api/v1/comments/{video}", {"content": "Created"}, Comment, {"content": "Created"}),
    ],
    ids=["tweet", "playlist", "comment"],
)
def test_creates_ignore_ids_owners_and_counters(url, body, model, lookup):
    world = build_world()
    published = world["published"]

    response = world.client("other").post(
        url.format(video=published.pk), {**FORBIDDEN, **body}, format="json"
    )

    assert response.status_code == 201, response.content[:300]
    row = model.objects.get(**lookup)
    assert str(row.pk) != STRANGER_ID
    assert row.created_at.year != 2001
    actor = getattr(row, "author", None) or getattr(row, "owner", None)
    assert actor == world["other"]
    if model is Comment:
        assert row.video == published
    data = response.json()["data"]
    assert data.get("likesCount", 0) == 0 and data.get("totalVideos", 0) == 0


# --- exposure (PROP-4) ------------------------------------------------------------------------

SECRET_KEYS = {
    "email",
    "password",
    "is_staff",
    "isStaff",
    "is_superuser",
    "isSuperuser",
    "is_active",
    "isActive",
    "last_login",
    "lastLogin",
    "accessToken",
    "refreshToken",
    "token",
}


def _keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


@pytest.fixture
def busy_world():
    """A's things, with B and staff all over them (comments, likes, subscriptions, history)."""
    world = build_world()
    for role in ("other", "staff"):
        WatchHistoryFactory(user=world.users[role], video=world["published"])
        LikeFactory(user=world.users[role], video=world["published"])
    return world


def _views_of_other_people(world):
    owner, other = world["owner"], world["other"]
    published = world["published"]
    return [
        f"/api/v1/user/c/{owner.username}",
        "/api/v1/videos",
        f"/api/v1/videos/{published.pk}",
        f"/api/v1/comments/{published.pk}",
        f"/api/v1/tweets/user/{owner.pk}",
        f"/api/v1/playlist/{world['playlist'].pk}",
        f"/api/v1/playlist/user/{owner.pk}",
        f"/api/v1/subscriptions/c/{owner.pk}",
        f"/api/v1/subscriptions/u/{other.pk}",
        "/api/v1/likes/videos",
        "/api/v1/user/watch-history",
    ]


@pytest.mark.parametrize("role", ["other", "staff", "anon"])
def test_nobody_sees_another_persons_email_flags_or_tokens(busy_world, role):
    world = busy_world
    emails = {user.email for user in User.objects.all()}
    client = world.client(role)
    urls = _views_of_other_people(world)
    if role == "anon":
        urls = [u for u in urls if "subscriptions" not in u and "likes" not in u]
        urls = [u for u in urls if "watch-history" not in u]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.json()
        assert not SECRET_KEYS & set(_keys(body["data"])), url
        text = json.dumps(body)
        assert not [email for email in emails if email in text], url
        assert "pbkdf2" not in text and "md5$" not in text and "argon2" not in text, url


def test_a_written_comment_or_tweet_shows_its_author_without_secrets():
    world = build_world()
    client = world.client("other")
    answers = [
        client.post(f"/api/v1/comments/{world['published'].pk}", {"content": "Hi"}),
        client.post("/api/v1/tweets", {"content": "Hi"}),
        client.post(f"/api/v1/likes/toggle/v/{world['published'].pk}"),
        client.post(f"/api/v1/subscriptions/c/{world['owner'].pk}"),
        client.patch(f"/api/v1/playlist/{world['playlist_of_other'].pk}", {"name": "Mine"}),
    ]
    for response in answers:
        assert response.status_code in (200, 201), response.content[:300]
        assert not SECRET_KEYS & set(_keys(response.json()["data"]))
        assert world["other"].email not in response.content.decode()


def test_own_channel_profile_shows_the_email_and_no_other_secret():
    world = build_world()
    owner = world["owner"]

    own = world.client("owner").get(f"/api/v1/user/c/{owner.username}").json()["data"]
    theirs = world.client("other").get(f"/api/v1/user/c/{owner.username}").json()["data"]

    assert own["email"] == owner.email
    assert "email" not in theirs
    assert {key for key in own if key != "email"} == set(theirs)
    assert not (SECRET_KEYS - {"email"}) & set(_keys(own))


def test_own_account_shows_the_email_but_no_flags_or_password():
    world = build_world()

    data = world.client("staff").get("/api/v1/user/current-user-details").json()["data"]

    assert data["email"] == world.users["staff"].email
    assert not (SECRET_KEYS - {"email"}) & set(data)
    assert str(uuid.UUID(data["id"])) == str(world.users["staff"].pk)


@pytest.mark.parametrize(
    ("url", "field", "column"),
    [
        ("/api/v1/user/update-avatar", "avatar", "avatar"),
        ("/api/v1/user/update-cover-image", "coverImage", "cover_image"),
    ],
    ids=["avatar", "cover"],
)
def test_image_updates_change_only_their_image(url, field, column):
    world = build_world()
    owner = world["owner"]
    before = _row(owner)
    body = {
        **FORBIDDEN,
        "is_active": "false",
        "email": "hijack@example.com",
        "username": "hijacked",
        "fullname": "Hijacked",
        "password": "Stolen-passphrase-123",
        field: image_upload("new.png"),
    }

    response = world.client("owner").patch(url, body, format="multipart")

    assert response.status_code == 200, response.content[:300]
    after = _row(owner)
    assert after[column] != before[column]
    _assert_only_changed(before, after, {column})


@pytest.mark.parametrize(
    ("url", "field", "column"),
    [
        ("/api/v1/videos/{video}", "thumbnail", "thumbnail"),
        ("/api/v1/user/update-avatar", "avatar", "avatar"),
        ("/api/v1/user/update-cover-image", "coverImage", "cover_image"),
    ],
    ids=["thumbnail", "avatar", "cover"],
)
def test_a_storage_name_in_json_never_becomes_the_file(url, field, column):
    """Naming someone else's stored file (a storage key) instead of uploading one: refused or
    ignored, never adopted (the old file would be deleted, and the other one then shared)."""
    world = build_world()
    owner, video = world["owner"], world["published"]
    target = video if field == "thumbnail" else owner
    before = _row(target)
    someone_elses = world["third_video"].thumbnail.name

    response = world.client("owner").patch(
        url.format(video=video.pk), {field: someone_elses, "title": "Maybe"}, format="json"
    )

    assert response.status_code in (200, 415, 422), response.content[:300]
    after = _row(target)
    assert after[column] == before[column]
    _assert_only_changed(before, after, {"title"})
