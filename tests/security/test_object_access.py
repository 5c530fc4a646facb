"""Object-level checks beyond the matrix:

- unknown and malformed ids are JSON 404s on every route that takes one (BOLA-8);
- lists, their totals and query-parameter filters never show someone else's unpublished video
  or its media (BOLA-5), and the caller's own lists stay the caller's;
- the actor is always the authenticated user, whatever the body names (BOLA-6);
- PUT is no way around PATCH, HEAD hides drafts like GET, an ordinary user cannot open the admin
  (FUNC-3);
- routes about "me" never touch another account; logout with someone else's refresh token
  revokes nothing; a deactivated user's tokens stop working.
"""

import re
import uuid

import pytest
from django.contrib.auth import get_user_model

from playlists.models import PlaylistVideo
from social.models import Comment, Like, Subscription, Tweet
from tests.factories import LikeFactory, PlaylistVideoFactory, WatchHistoryFactory
from tests.security.test_authorization_matrix import MATRIX, _resolve
from tests.security.world import build_world, db_state, media_state
from videos.models import Video

pytestmark = pytest.mark.django_db

PARAMETRISED = sorted(key for key in MATRIX if len(key) == 2 and "{" in key[0])


# Replacements for an id: one that exists nowhere, and ones that are no UUID at all (a
# sequential-id scan, BOLA-8, or a path trick): each must be a JSON 404 that changes nothing.
BAD_IDS = {
    "unknown": lambda: str(uuid.uuid4()),
    "sequential": lambda: "1",
    "uuid-prefix": lambda: str(uuid.uuid4())[:-1],
    "encoded-slash": lambda: "..%2F..%2Fadmin",
}


@pytest.mark.parametrize("key", PARAMETRISED, ids=[f"{m.upper()} {p}" for p, m in PARAMETRISED])
def test_unknown_or_malformed_ids_are_404_for_the_owner_and_change_nothing(key):
    """Every id in the path replaced: 404, never 403 or 500."""
    path, method = key
    world = build_world()
    expect = MATRIX[key]
    before = db_state()
    for bad, make_id in BAD_IDS.items():
        url = re.sub(r"\{username\}", "nobody_by_that_name", path)
        url = re.sub(r"\{\w+\}", lambda _, make_id=make_id: make_id(), url)
        body = expect.body(world, "owner") if callable(expect.body) else expect.body

        response = getattr(world.client("owner"), method)(
            url, body, format=expect.fmt, **expect.headers
        )

        assert response.status_code == 404, (bad, url, response.content[:300])
        assert response["Content-Type"].startswith("application/json"), bad
        assert response.json()["success"] is False, bad
        assert db_state() == before, bad


def test_a_known_playlist_with_an_unknown_video_is_404():
    world = build_world()
    url = f"/api/v1/playlist/{world['playlist'].pk}/{uuid.uuid4()}"

    added = world.client("owner").post(url)
    removed = world.client("owner").delete(url)

    assert (added.status_code, added.json()["message"]) == (404, "Video not found")
    assert (removed.status_code, removed.json()["message"]) == (404, "Video not in playlist")
    assert PlaylistVideo.objects.filter(playlist=world["playlist"]).count() == 1


@pytest.fixture
def draft_everywhere():
    """A's draft is in A's playlist, in B's playlist, liked and watched by B (all from before
    it was unpublished), so every list has a chance to leak it."""
    world = build_world()
    draft = world["unpublished"]
    PlaylistVideoFactory(playlist=world["playlist"], video=draft)
    PlaylistVideoFactory(playlist=world["playlist_of_other"], video=draft)
    PlaylistVideoFactory(playlist=world["playlist_of_staff"], video=draft)
    for role in ("other", "staff"):
        LikeFactory(user=world.users[role], video=draft)
        WatchHistoryFactory(user=world.users[role], video=draft)
    return world


def _list_urls(world, role):
    owner = world["owner"]
    caller = "owner" if role == "anon" else role
    urls = [
        "/api/v1/videos",
        f"/api/v1/videos?userId={owner.pk}",
        "/api/v1/videos?query=draft",
        # Filters a client might hope the server honours: ignored, never widening the list.
        f"/api/v1/videos?userId={owner.pk}&isPublished=false&is_published=false&all=true",
        f"/api/v1/videos?owner={owner.pk}&includeUnpublished=true&status=draft",
        f"/api/v1/playlist/{world['playlist'].pk}",
        f"/api/v1/playlist/{world[f'playlist_of_{caller}'].pk}",
        f"/api/v1/playlist/{world['playlist'].pk}/videos",
        f"/api/v1/playlist/{world[f'playlist_of_{caller}'].pk}/videos",
        f"/api/v1/playlist/user/{owner.pk}",
        f"/api/v1/user/c/{owner.username}",
        f"/api/v1/comments/{world['published'].pk}",
    ]
    if role != "anon":
        urls += [
            f"/api/v1/playlist/user/{world.users[role].pk}",
            "/api/v1/likes/videos",
            "/api/v1/user/watch-history",
            "/api/v1/dashboard/videos",
            "/api/v1/dashboard/stats",
            # The caller's own lists stay the caller's, whoever a query parameter names.
            f"/api/v1/dashboard/videos?userId={owner.pk}&owner={owner.pk}",
            f"/api/v1/dashboard/stats?userId={owner.pk}&owner={owner.pk}",
            f"/api/v1/likes/videos?userId={owner.pk}&user={owner.pk}",
            f"/api/v1/user/watch-history?userId={owner.pk}&user={owner.pk}",
        ]
    return urls


@pytest.mark.parametrize("role", ["other", "staff", "anon"])
def test_lists_never_show_someone_elses_unpublished_video(draft_everywhere, role):
    world = draft_everywhere
    draft = world["unpublished"]
    client = world.client(role)
    for url in _list_urls(world, role):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        # Neither the draft itself nor its media (a playlist thumbnail is a video's thumbnail).
        for secret in (str(draft.pk), draft.title, draft.thumbnail.name, draft.video_file.name):
            assert secret not in text, (url, secret)

    # Counts do not reveal it either: A's playlist holds two entries, B sees one.
    summary = client.get(f"/api/v1/playlist/user/{world['owner'].pk}").json()["data"]["docs"]
    assert [p["totalVideos"] for p in summary] == [1]
    owners_videos = client.get(f"/api/v1/videos?userId={world['owner'].pk}").json()["data"]
    assert owners_videos["totalDocs"] == 1
    if role != "anon":
        # B and staff liked and watched only the draft: both lists are empty, totals too.
        for url in ("/api/v1/likes/videos", "/api/v1/user/watch-history"):
            page = client.get(url).json()["data"]
            assert (page["totalDocs"], page["docs"]) == (0, []), url
        trying = f"userId={world['owner'].pk}&owner={world['owner'].pk}"
        for url in ("/api/v1/dashboard/stats", "/api/v1/dashboard/videos"):
            assert client.get(f"{url}?{trying}").json() == client.get(url).json(), url
        own_playlist = world[f"playlist_of_{role}"].pk
        detail = client.get(f"/api/v1/playlist/{own_playlist}").json()["data"]
        assert (detail["totalVideos"], detail["videos"]) == (0, [])
        listed = client.get(f"/api/v1/playlist/{own_playlist}/videos").json()["data"]
        assert (listed["totalDocs"], listed["docs"]) == (0, [])


def test_the_owner_still_sees_the_draft_where_it_belongs(draft_everywhere):
    """The control for the test above: the draft is there to be leaked."""
    world = draft_everywhere
    client = world.client("owner")
    dashboard = client.get("/api/v1/dashboard/videos").json()["data"]["docs"]
    playlist = client.get(f"/api/v1/playlist/{world['playlist'].pk}").json()["data"]

    assert str(world["unpublished"].pk) in {video["id"] for video in dashboard}
    assert str(world["unpublished"].pk) in {video["id"] for video in playlist["videos"]}
    listed = client.get(f"/api/v1/playlist/{world['playlist'].pk}/videos").json()["data"]
    assert str(world["unpublished"].pk) in {video["id"] for video in listed["docs"]}


ACTOR_FIELDS = (
    "user",
    "userId",
    "user_id",
    "owner",
    "ownerId",
    "author",
    "subscriber",
    "subscriberId",
    "subscriber_id",
    "author_id",
    "owner_id",
)


def _naming(person):
    return {name: str(person.pk) for name in ACTOR_FIELDS}


def test_actor_is_the_caller_whatever_the_body_names():
    world = build_world()
    owner, staff = world["owner"], world.users["staff"]
    third = world.users["third"]
    client = world.client("staff")
    published = world["published"]

    assert client.post(f"/api/v1/likes/toggle/v/{published.pk}", _naming(owner)).status_code == 200
    assert (
        client.post(
            f"/api/v1/comments/{published.pk}", {"content": "Mine", **_naming(owner)}
        ).status_code
        == 201
    )
    assert client.post("/api/v1/tweets", {"content": "Mine", **_naming(owner)}).status_code == 201
    assert client.post("/api/v1/playlist", {"name": "Mine", **_naming(owner)}).status_code == 201
    assert client.post(f"/api/v1/subscriptions/c/{owner.pk}", _naming(third)).status_code == 200

    assert list(Like.objects.filter(video=published).values_list("user", flat=True)) == [staff.pk]
    assert Comment.objects.get(content="Mine").author == staff
    assert Tweet.objects.get(content="Mine").author == staff
    assert staff.playlists.filter(name="Mine").exists()
    assert not owner.playlists.filter(name="Mine").exists()
    assert Subscription.objects.filter(subscriber=staff, channel=owner).exists()
    assert not Subscription.objects.filter(subscriber=third).exists()


def test_logout_with_someone_elses_refresh_token_does_not_revoke_it():
    world = build_world()
    owners_refresh = world.refresh_token("owner")

    logout = world.client("other").post(
        "/api/v1/user/logout", {"refreshToken": owners_refresh}, format="json"
    )
    refresh = world.client("anon").post(
        "/api/v1/user/refresh-token", {"refreshToken": owners_refresh}, format="json"
    )

    assert logout.status_code == 200
    assert refresh.status_code == 200
    assert refresh.json()["data"]["refreshToken"] != owners_refresh


PATCHABLE = sorted(key for key in MATRIX if len(key) == 2 and key[1] == "patch")


@pytest.mark.parametrize("role", ["owner", "other"])
@pytest.mark.parametrize("key", PATCHABLE, ids=[path for path, _ in PATCHABLE])
def test_put_is_not_a_way_around_patch(key, role):
    """BOLA-1 lists PUT: no route takes it, for the owner or anyone else (405, nothing changed)."""
    world = build_world()
    expect = MATRIX[key]
    url = key[0].format(**_resolve(world, expect, role))
    body = expect.body(world, role) if callable(expect.body) else expect.body
    before = db_state()

    response = world.client(role).put(url, body, format=expect.fmt)

    assert response.status_code == 405, response.content[:300]
    assert response.json()["success"] is False
    assert db_state() == before


@pytest.mark.parametrize("role", ["other", "staff", "anon"])
@pytest.mark.parametrize(
    "url", ["/api/v1/videos/{}", "/api/v1/comments/{}"], ids=["video", "comments"]
)
def test_head_does_not_reveal_a_draft(url, role):
    world = build_world()
    draft = world["unpublished"]
    before = db_state()

    response = world.client(role).head(url.format(draft.pk))
    owners = world.client("owner").head(url.format(draft.pk))

    assert response.status_code == 404
    assert owners.status_code == 200
    assert db_state() == before


def test_an_ordinary_user_cannot_open_the_admin(client):
    """FUNC-3: the admin is for staff sessions only; an ordinary user is sent to its login."""
    world = build_world()
    client.force_login(world["other"])

    response = client.get("/admin/videos/video/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


SELF_ROUTES = [
    key
    for key in MATRIX
    if len(key) == 2
    and key[0].startswith("/api/v1/user/")
    and MATRIX[key].anon == 401
    and "{" not in key[0]
]


def test_routes_about_the_caller_never_touch_anyone_else(settings):
    """B clearing his history, renaming himself, changing his avatar, cover and password and
    logging out leaves A's row, history, media and tokens exactly as they were."""
    assert len(SELF_ROUTES) >= 7
    world = build_world()
    owner = world["owner"]
    WatchHistoryFactory(user=world["other"], video=world["published"])
    owners_row = get_user_model().objects.filter(pk=owner.pk).values().get()
    owners_history = list(owner.watch_history.values())
    owners_files = media_state(settings)

    client = world.client("other")
    for path, method in sorted(SELF_ROUTES, key=lambda key: "change-password" in key[0]):
        expect = MATRIX[(path, method)]
        body = expect.body(world, "other") if callable(expect.body) else expect.body
        response = getattr(client, method)(path, body, format=expect.fmt)
        assert response.status_code == 200, (path, response.content[:300])

    assert get_user_model().objects.filter(pk=owner.pk).values().get() == owners_row
    assert list(owner.watch_history.values()) == owners_history
    assert not world["other"].watch_history.exists()
    assert set(owners_files) <= set(media_state(settings))
    assert world.client("owner").get("/api/v1/user/current-user-details").status_code == 200
    refresh = world.client("anon").post(
        "/api/v1/user/refresh-token", {"refreshToken": world.refresh_token("owner")}, format="json"
    )
    assert refresh.status_code == 200


def test_a_deactivated_users_tokens_stop_working():
    world = build_world()
    get_user_model().objects.filter(pk=world["owner"].pk).update(is_active=False)

    access = world.client("owner").get("/api/v1/user/current-user-details")
    refresh = world.client("anon").post(
        "/api/v1/user/refresh-token", {"refreshToken": world.refresh_token("owner")}, format="json"
    )
    write = world.client("owner").patch(
        f"/api/v1/videos/{world['published'].pk}", {"title": "Still mine?"}, format="json"
    )

    assert (access.status_code, refresh.status_code, write.status_code) == (401, 401, 401)
    assert Video.objects.get(pk=world["published"].pk).title == "Owner published"
