"""The authorization matrix (object- and function-level authorization): every API route
x {owner, other, anon, staff}, with the status docs/api.md prescribes.

- ``MATRIX`` holds one entry per (path template, method) that the URL resolver serves under
  ``/api/v1``; ``test_matrix_covers_every_route`` fails, naming it, for a route without one.
  Entries with a third key element are extra cases for the same route (an unpublished video,
  a comment on one, a comment by someone else, a private playlist), where visibility changes
  the answer.
- Every request carries a valid body, so the status is about authorization, not validation.
- A denied request (any 4xx) must change nothing: every table the API writes and every media
  file are compared before and after (on-commit callbacks run, so a file deletion would show).
- Expected statuses: 401 anonymous on protected routes; 403 another user's
  *visible* object; 404 missing or invisible (another user's unpublished video, and everything
  hanging off it; another user's private playlist); staff have no special API powers, so they answer like ``other``.
"""

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import image_upload, video_upload
from tests.docs.test_schema import api_routes
from tests.factories import DEFAULT_PASSWORD
from tests.security.world import ROLES, build_world, db_state, media_state

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "A-brand-new-passphrase-42"


@dataclass(frozen=True)
class Expect:
    owner: int
    other: int
    anon: int
    staff: int
    # Path parameter → name of a world object (its id; ``username`` for usernames).
    # "playlist_of_caller" names the caller's own playlist (the owner's for anon).
    params: dict = field(default_factory=dict)
    # A valid body, or a callable (world, role) → body.
    body: Any = None
    fmt: str = "json"
    # Request headers (as WSGI names: HTTP_CONTENT_RANGE).
    headers: dict = field(default_factory=dict)
    note: str = ""

    def status(self, role):
        return getattr(self, role)


def everyone(status, **kwargs):
    return Expect(status, status, status, status, **kwargs)


def signed_in(status, **kwargs):
    """A route about the caller's own account: any signed-in user, never anonymous."""
    return Expect(status, status, 401, status, **kwargs)


def owner_only(owner_status=200, *, hidden=False, **kwargs):
    """Owner may; other and staff get 403 for a visible object, 404 for a hidden one."""
    denied = 404 if hidden else 403
    return Expect(owner_status, denied, 401, denied, **kwargs)


def visible_to_owner_only(status=200, *, anon=404, **kwargs):
    return Expect(status, 404, anon, 404, **kwargs)


def _register_body(world, role):
    return {
        "username": f"newcomer_{role}",
        "email": f"newcomer_{role}@example.com",
        "fullname": "New Comer",
        "password": "An-unguessable-passphrase-9",
        "avatar": image_upload("avatar.png"),
    }


def _publish_body(world, role):
    return {
        "title": "A new video",
        "description": "About things.",
        "videoFile": video_upload(),
        "thumbnail": image_upload("thumb.png"),
    }


V = "/api/v1/"
VIDEO = {"video_id": "published"}
DRAFT = {"video_id": "unpublished"}
PRIVATE_LIST = {"playlist_id": "private_playlist"}

MATRIX = {
    # --- public / credential routes ------------------------------------------------------------
    (V + "healthcheck/", "get"): everyone(200),
    (V + "user/register/", "post"): everyone(201, body=_register_body, fmt="multipart"),
    (V + "user/login/", "post"): everyone(
        200,
        body=lambda w, r: {"username": w["owner"].username, "password": DEFAULT_PASSWORD},
        note="credentials, not the caller's token, decide",
    ),
    (V + "user/refresh-token/", "post"): everyone(
        200,
        body=lambda w, r: {"refreshToken": w.refresh_token(r)},
        note="the refresh token is the credential (anon presents the owner's)",
    ),
    (V + "user/c/{username}/", "get"): everyone(200, params={"username": "owner"}),
    (V + "videos/", "get"): everyone(200),
    (V + "videos/{video_id}/", "get"): everyone(200, params=VIDEO),
    (V + "comments/{video_id}/", "get"): everyone(200, params=VIDEO),
    (V + "comments/c/{comment_id}/replies/", "get"): everyone(
        200, params={"comment_id": "comment"}
    ),
    (V + "playlist/{playlist_id}/", "get"): everyone(200, params={"playlist_id": "playlist"}),
    (V + "playlist/{playlist_id}/videos/", "get"): everyone(
        200, params={"playlist_id": "playlist"}
    ),
    (V + "playlist/user/{user_id}/", "get"): everyone(200, params={"user_id": "owner"}),
    (V + "tweets/user/{user_id}/", "get"): everyone(200, params={"user_id": "owner"}),
    # --- the caller's own account ---------------------------------------------------------------
    (V + "user/logout/", "post"): signed_in(
        200, body=lambda w, r: {"refreshToken": w.refresh_token(r)}
    ),
    (V + "user/change-password/", "post"): signed_in(
        200, body={"oldPassword": DEFAULT_PASSWORD, "newPassword": NEW_PASSWORD}
    ),
    (V + "user/current-user-details/", "get"): signed_in(200),
    (V + "user/update-account/", "patch"): signed_in(200, body={"fullname": "Renamed Person"}),
    (V + "user/update-avatar/", "patch"): signed_in(
        200, body=lambda w, r: {"avatar": image_upload("a.png")}, fmt="multipart"
    ),
    (V + "user/update-cover-image/", "patch"): signed_in(
        200, body=lambda w, r: {"coverImage": image_upload("c.png")}, fmt="multipart"
    ),
    (V + "user/watch-history/", "get"): signed_in(200),
    (V + "user/watch-history/", "delete"): signed_in(200),
    (V + "user/watch-history/{video_id}/", "delete"): Expect(
        200, 404, 401, 404, params=VIDEO, note="only the owner watched it: not in B's history"
    ),
    (V + "dashboard/stats/", "get"): signed_in(200),
    (V + "dashboard/videos/", "get"): signed_in(200),
    (V + "likes/videos/", "get"): signed_in(200),
    (V + "feed/", "get"): signed_in(200),
    (V + "notifications/", "get"): signed_in(200),
    (V + "notifications/read/", "post"): signed_in(200, body={"all": True}),
    (V + "notifications/settings/", "get"): signed_in(200),
    (V + "notifications/settings/", "patch"): signed_in(200, body={"tweetPosted": False}),
    (V + "subscriptions/c/{channel_id}/", "get"): signed_in(200, params={"channel_id": "owner"}),
    (V + "subscriptions/u/{subscriber_id}/", "get"): signed_in(
        200, params={"subscriber_id": "owner"}
    ),
    (V + "subscriptions/c/{channel_id}/", "post"): Expect(
        400, 200, 401, 200, params={"channel_id": "owner"}, note="400: self-subscription"
    ),
    # --- creating (anyone signed in; the actor is the caller) -----------------------------------
    (V + "videos/", "post"): signed_in(201, body=_publish_body, fmt="multipart"),
    (V + "tweets/", "post"): signed_in(201, body={"content": "A new tweet"}),
    (V + "playlist/", "post"): signed_in(201, body={"name": "A new playlist"}),
    (V + "comments/{video_id}/", "post"): signed_in(201, params=VIDEO, body={"content": "Hi"}),
    (V + "likes/toggle/v/{video_id}/", "post"): signed_in(200, params=VIDEO),
    (V + "likes/toggle/c/{comment_id}/", "post"): signed_in(200, params={"comment_id": "comment"}),
    (V + "likes/toggle/t/{tweet_id}/", "post"): signed_in(200, params={"tweet_id": "tweet"}),
    (V + "uploads/", "post"): signed_in(
        201, body={"filename": "clip.mp4", "size": 10, "contentType": "video/mp4"}
    ),
    # Direct uploads and Cloudinary's notifications exist with Cloudinary storage only (this
    # world stores media locally); tests/videos/test_video_cloudinary_direct.py has them with it.
    (V + "uploads/cloudinary-signature/", "post"): signed_in(404),
    (V + "webhooks/cloudinary/", "post"): everyone(
        404, note="no token: Cloudinary signs the body; without Cloudinary, 404"
    ),
    # --- the owner's objects (BOLA-1, BOLA-4) ---------------------------------------------------
    # An upload session is its creator's alone: everyone else gets the 404 of a missing one.
    (V + "uploads/{upload_id}/", "get"): visible_to_owner_only(
        200, anon=401, params={"upload_id": "upload"}
    ),
    (V + "uploads/{upload_id}/", "put"): visible_to_owner_only(
        308,
        anon=401,
        params={"upload_id": "upload"},
        headers={"HTTP_CONTENT_RANGE": "bytes */10"},
        note="a status query: 308 while no byte is in",
    ),
    (V + "uploads/{upload_id}/", "delete"): visible_to_owner_only(
        200, anon=401, params={"upload_id": "upload"}
    ),
    (V + "videos/{video_id}/", "patch"): owner_only(params=VIDEO, body={"title": "New title"}),
    (V + "videos/{video_id}/", "delete"): owner_only(params=VIDEO),
    (V + "videos/toggle/publish/{video_id}/", "patch"): owner_only(params=VIDEO),
    (V + "videos/{video_id}/reprocess/", "post"): owner_only(
        202, params={"video_id": "failed"}, hidden=True, note="a failed video: its owner's alone"
    ),
    (V + "videos/{video_id}/reprocess/", "post", "ready"): Expect(
        409, 403, 401, 403, params=VIDEO, note="visible to all; only a failed one is reprocessed"
    ),
    (V + "comments/c/{comment_id}/", "patch"): owner_only(
        params={"comment_id": "comment"}, body={"content": "Edited"}
    ),
    (V + "comments/c/{comment_id}/", "delete"): owner_only(params={"comment_id": "comment"}),
    (V + "comments/c/{comment_id}/pin/", "patch"): owner_only(params={"comment_id": "comment"}),
    (V + "comments/c/{comment_id}/heart/", "patch"): owner_only(params={"comment_id": "comment"}),
    (V + "tweets/{tweet_id}/", "patch"): owner_only(
        params={"tweet_id": "tweet"}, body={"content": "Edited"}
    ),
    (V + "tweets/{tweet_id}/", "delete"): owner_only(params={"tweet_id": "tweet"}),
    (V + "playlist/{playlist_id}/", "patch"): owner_only(
        params={"playlist_id": "playlist"}, body={"name": "Renamed list"}
    ),
    (V + "playlist/{playlist_id}/", "delete"): owner_only(params={"playlist_id": "playlist"}),
    (V + "playlist/{playlist_id}/{video_id}/", "post"): owner_only(
        params={"playlist_id": "playlist", "video_id": "third_video"},
        note="a published video of a third user, not yet in the playlist",
    ),
    (V + "playlist/{playlist_id}/{video_id}/", "delete"): owner_only(
        params={"playlist_id": "playlist", "video_id": "published"}
    ),
    # --- the owner's UNPUBLISHED video and what hangs off it (BOLA-2, BOLA-3) -------------------
    (V + "videos/{video_id}/", "get", "unpublished"): visible_to_owner_only(params=DRAFT),
    (V + "videos/{video_id}/", "patch", "unpublished"): owner_only(
        params=DRAFT, body={"title": "New title"}, hidden=True
    ),
    (V + "videos/{video_id}/", "delete", "unpublished"): owner_only(params=DRAFT, hidden=True),
    (V + "videos/toggle/publish/{video_id}/", "patch", "unpublished"): owner_only(
        params=DRAFT, hidden=True
    ),
    (V + "comments/{video_id}/", "get", "unpublished"): visible_to_owner_only(params=DRAFT),
    (V + "comments/{video_id}/", "post", "unpublished"): owner_only(
        201, params=DRAFT, body={"content": "Hi"}, hidden=True
    ),
    (V + "likes/toggle/v/{video_id}/", "post", "unpublished"): owner_only(
        params=DRAFT, hidden=True
    ),
    (V + "likes/toggle/c/{comment_id}/", "post", "unpublished"): owner_only(
        params={"comment_id": "hidden_comment"}, hidden=True
    ),
    (V + "comments/c/{comment_id}/", "patch", "unpublished"): owner_only(
        params={"comment_id": "hidden_comment"}, body={"content": "Edited"}, hidden=True
    ),
    (V + "comments/c/{comment_id}/", "delete", "unpublished"): owner_only(
        params={"comment_id": "hidden_comment"}, hidden=True
    ),
    (V + "comments/c/{comment_id}/replies/", "get", "unpublished"): visible_to_owner_only(
        params={"comment_id": "hidden_comment"}
    ),
    (V + "comments/c/{comment_id}/pin/", "patch", "unpublished"): owner_only(
        params={"comment_id": "hidden_comment"}, hidden=True
    ),
    (V + "comments/c/{comment_id}/heart/", "patch", "unpublished"): owner_only(
        params={"comment_id": "hidden_comment"}, hidden=True
    ),
    (V + "playlist/{playlist_id}/{video_id}/", "post", "unpublished"): owner_only(
        params={"playlist_id": "playlist_of_caller", "video_id": "unpublished"},
        hidden=True,
        note="each caller adds A's draft to their OWN playlist",
    ),
    # --- the owner's PRIVATE playlist: others get 404 on every route that names it -------------
    (V + "playlist/{playlist_id}/", "get", "private"): visible_to_owner_only(params=PRIVATE_LIST),
    (V + "playlist/{playlist_id}/videos/", "get", "private"): visible_to_owner_only(
        params=PRIVATE_LIST
    ),
    (V + "playlist/{playlist_id}/", "patch", "private"): owner_only(
        params=PRIVATE_LIST, body={"visibility": "public"}, hidden=True
    ),
    (V + "playlist/{playlist_id}/", "delete", "private"): owner_only(
        params=PRIVATE_LIST, hidden=True
    ),
    (V + "playlist/{playlist_id}/{video_id}/", "post", "private"): owner_only(
        params={**PRIVATE_LIST, "video_id": "third_video"}, hidden=True
    ),
    (V + "playlist/{playlist_id}/{video_id}/", "delete", "private"): owner_only(
        params={**PRIVATE_LIST, **VIDEO}, hidden=True
    ),
    # --- comment moderation both ways (BOLA-7) --------------------------------------------------
    (V + "comments/c/{comment_id}/", "delete", "B's comment on A's video"): Expect(
        200,
        200,
        401,
        403,
        params={"comment_id": "others_comment_on_owners_video"},
        note="the video's owner (A) may moderate; the author (B) may delete",
    ),
    (V + "comments/c/{comment_id}/", "delete", "A's comment on B's video"): Expect(
        200,
        200,
        401,
        403,
        params={"comment_id": "owners_comment_on_others_video"},
        note="author A may delete; B moderates his own video",
    ),
    (V + "comments/c/{comment_id}/", "patch", "B's comment on A's video"): Expect(
        403,
        200,
        401,
        403,
        params={"comment_id": "others_comment_on_owners_video"},
        body={"content": "Edited"},
        note="only the author edits: the video's owner may delete, not put words in B's mouth",
    ),
    # --- the video owner's marks: the comment's author has no say (BOLA-7) ----------------------
    **{
        (V + f"comments/c/{{comment_id}}/{mark}/", "patch", case): Expect(
            *statuses,
            params={"comment_id": comment},
            note="only the video's owner pins or hearts, whoever wrote the comment",
        )
        for mark in ("pin", "heart")
        for case, comment, statuses in (
            ("B's comment on A's video", "others_comment_on_owners_video", (200, 403, 401, 403)),
            ("A's comment on B's video", "owners_comment_on_others_video", (403, 200, 401, 403)),
        )
    },
}


def _route(key):
    return key[0], key[1]


def _case_id(key):
    return " ".join([key[1].upper(), key[0], *[f"[{extra}]" for extra in key[2:]]])


CASES = [(key, role) for key in MATRIX for role in ROLES]


def test_matrix_covers_every_route():
    routes = api_routes()
    covered = {_route(key) for key in MATRIX}
    missing = sorted(routes - covered)
    stale = sorted(covered - routes)
    assert not missing, f"routes without an authorization matrix entry: {missing}"
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"
    # Every route has its base entry (variants come on top, never instead).
    assert {key for key in MATRIX if len(key) == 2} == routes


def _resolve(world, expect, role):
    values = {}
    for name, source in expect.params.items():
        if source == "playlist_of_caller":
            source = f"playlist_of_{'owner' if role == 'anon' else role}"
        obj = world[source]
        values[name] = obj.username if name == "username" else str(obj.pk)
    return values


@pytest.mark.parametrize(
    ("key", "role"), CASES, ids=[f"{_case_id(key)} as {role}" for key, role in CASES]
)
def test_authorization_matrix(key, role, settings, django_capture_on_commit_callbacks):
    expect = MATRIX[key]
    world = build_world()
    url = key[0].format(**_resolve(world, expect, role))
    body = expect.body(world, role) if callable(expect.body) else expect.body
    client = world.client(role)
    rows_before, files_before = db_state(), media_state(settings)

    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(client, key[1])(url, body, format=expect.fmt, **expect.headers)

    wanted = expect.status(role)
    assert response.status_code == wanted, (
        f"{_case_id(key)} as {role}: {response.status_code} {response.content[:300]!r}"
    )
    envelope = response.json()
    assert envelope["statusCode"] == wanted
    assert envelope["success"] is (wanted < 400)
    if wanted >= 400:
        assert envelope["data"] is None
        # Denied: nothing changed anywhere, no file deleted or stored.
        assert db_state() == rows_before
        assert media_state(settings) == files_before
