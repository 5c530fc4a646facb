"""Playlist visibility, cell by cell: the owner, another user and an anonymous caller, each
against a public, an unlisted and a private playlist, on every route that reads or touches a
playlist; then setting it (create, PATCH), refusing bad values, and the database's own guards."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from playlists.models import Playlist, PlaylistVideo
from tests.conftest import bearer_client
from tests.factories import PlaylistFactory, UserFactory, VideoFactory
from tests.playlists.entries import add, entry_doc
from tests.playlists.shapes import error, field_error, page, playlist_summary, success

pytestmark = pytest.mark.django_db

VISIBILITIES = ("public", "unlisted", "private")
VIEWERS = ("owner", "other", "anonymous")
NOT_FOUND = error(404, "Playlist not found")
UNKNOWN = "01970000-0000-7000-8000-000000000000"
BAD_VISIBILITY = "Visibility must be one of: public, unlisted, private"

# Who reads a playlist by its id (detail, videos list): owner always, others unless private.
READABLE = {
    "owner": {"public", "unlisted", "private"},
    "other": {"public", "unlisted"},
    "anonymous": {"public", "unlisted"},
}
# Who sees it listed on GET /playlist/user/:userId: owner all, others public only.
LISTED = {
    "owner": {"public", "unlisted", "private"},
    "other": {"public"},
    "anonymous": {"public"},
}
# A write by someone else: 403 when the playlist is readable, 404 when it is private (its
# existence stays hidden), 401 without a token.
FOREIGN_WRITE = {
    ("other", "public"): 403,
    ("other", "unlisted"): 403,
    ("other", "private"): 404,
    ("anonymous", "public"): 401,
    ("anonymous", "unlisted"): 401,
    ("anonymous", "private"): 401,
}
CELLS = [(viewer, visibility) for viewer in VIEWERS for visibility in VISIBILITIES]


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def other():
    return UserFactory()


@pytest.fixture
def clients(owner, other):
    return {"owner": bearer_client(owner), "other": bearer_client(other), "anonymous": APIClient()}


@pytest.fixture
def playlists(owner):
    """One playlist of each visibility, each holding one published video; created in the order
    public, unlisted, private (so the list, newest first, is the reverse)."""
    made = {}
    for minutes, visibility in enumerate(VISIBILITIES):
        playlist = PlaylistFactory(owner=owner, name=visibility.title(), visibility=visibility)
        add(playlist, VideoFactory(thumbnail=f"thumbnails/{visibility}.png"), minutes)
        made[visibility] = playlist
    return made


def detail_url(playlist_id):
    return f"/api/v1/playlist/{playlist_id}"


def videos_url(playlist_id):
    return f"/api/v1/playlist/{playlist_id}/videos"


def entry_url(playlist_id, video_id):
    return f"/api/v1/playlist/{playlist_id}/{video_id}"


def list_url(user_id):
    return f"/api/v1/playlist/user/{user_id}"


def summary(playlist):
    """The list shape of a playlist of the ``playlists`` fixture."""
    thumbnail = f"http://testserver/media/thumbnails/{playlist.visibility}.png"
    return playlist_summary(playlist, total_videos=1, thumbnail=thumbnail)


def first_video(playlist):
    return PlaylistVideo.objects.get(playlist=playlist).video


def snapshot(playlist):
    """Everything a refused write must leave as it was."""
    row = Playlist.objects.filter(pk=playlist.pk).values().get()
    return row, list(PlaylistVideo.objects.filter(playlist=playlist).values_list("video_id"))


# --- GET /playlist/user/:userId ---------------------------------------------------------------


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_users_list_and_its_total(clients, owner, playlists, viewer):
    response = clients[viewer].get(list_url(owner.id))

    assert response.status_code == 200
    listed = [v for v in reversed(VISIBILITIES) if v in LISTED[viewer]]
    assert response.json() == success(
        page([summary(playlists[v]) for v in listed], total=len(listed)),
        "User playlists fetched successfully",
    )


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_total_of_a_paged_list_counts_the_listed_playlists_only(
    clients, owner, playlists, viewer
):
    response = clients[viewer].get(list_url(owner.id), {"limit": 1})

    data = response.json()["data"]
    assert (data["totalDocs"], data["totalPages"]) == (len(LISTED[viewer]),) * 2
    assert [d["name"] for d in data["docs"]] == ["Private" if viewer == "owner" else "Public"]


def test_a_user_whose_playlists_are_all_hidden_shows_others_an_empty_list(
    clients, owner, playlists
):
    Playlist.objects.filter(visibility="public").update(visibility="unlisted")

    response = clients["other"].get(list_url(owner.id))

    assert response.json() == success(page([], total=0), "User playlists fetched successfully")


def test_another_users_list_shows_the_caller_only_its_public_playlists(clients, other, owner):
    """The owner reading someone else's list is just another user there."""
    PlaylistFactory(owner=other, name="Theirs, public")
    PlaylistFactory(owner=other, name="Theirs, unlisted", visibility="unlisted")

    response = clients["owner"].get(list_url(other.id))

    assert [d["name"] for d in response.json()["data"]["docs"]] == ["Theirs, public"]


# --- GET /playlist/:playlistId ----------------------------------------------------------------


@pytest.mark.parametrize(("viewer", "visibility"), CELLS)
def test_the_detail(clients, playlists, viewer, visibility):
    playlist = playlists[visibility]

    response = clients[viewer].get(detail_url(playlist.id))

    if visibility in READABLE[viewer]:
        assert response.status_code == 200
        data = response.json()["data"]
        assert (data["id"], data["visibility"], data["totalVideos"]) == (
            str(playlist.id),
            visibility,
            1,
        )
        assert [v["id"] for v in data["videos"]] == [str(first_video(playlist).id)]
    else:
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


@pytest.mark.parametrize("viewer", ["other", "anonymous"])
def test_a_hidden_playlist_answers_exactly_like_a_missing_one(clients, playlists, viewer):
    client = clients[viewer]
    private = playlists["private"].id

    for url in (detail_url, videos_url):
        hidden, missing = client.get(url(private)), client.get(url(UNKNOWN))
        assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())


# --- GET /playlist/:playlistId/videos ---------------------------------------------------------


@pytest.mark.parametrize(("viewer", "visibility"), CELLS)
def test_the_videos_list(clients, playlists, viewer, visibility):
    playlist = playlists[visibility]

    response = clients[viewer].get(videos_url(playlist.id))

    if visibility in READABLE[viewer]:
        entry = PlaylistVideo.objects.get(playlist=playlist)
        assert response.json() == success(
            page([entry_doc(entry)], total=1), "Playlist videos fetched successfully"
        )
    else:
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


def test_videos_inside_keep_their_own_rule_in_an_unlisted_playlist(clients, owner, other):
    """A readable playlist still hides the videos the caller may not reach (a private video of
    its owner), and shows the ones they may (public and unlisted videos)."""
    playlist = PlaylistFactory(owner=owner, visibility="unlisted")
    public = add(playlist, VideoFactory(), 1)
    unlisted = add(playlist, VideoFactory(visibility="unlisted"), 2)
    add(playlist, VideoFactory(owner=owner, visibility="private"), 3)

    response = clients["other"].get(videos_url(playlist.id))

    assert response.json()["data"] == page([entry_doc(public), entry_doc(unlisted)], total=2)
    assert clients["owner"].get(videos_url(playlist.id)).json()["data"]["totalDocs"] == 3


# --- writes: POST and DELETE /playlist/:playlistId/:videoId, PATCH and DELETE /playlist/:id ----


@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_the_owner_adds_and_removes_videos_whatever_the_visibility(clients, playlists, visibility):
    playlist = playlists[visibility]
    video = VideoFactory()

    added = clients["owner"].post(entry_url(playlist.id, video.id))
    assert added.status_code == 200
    assert added.json()["data"]["visibility"] == visibility
    assert PlaylistVideo.objects.filter(playlist=playlist, video=video).exists()

    removed = clients["owner"].delete(entry_url(playlist.id, video.id))
    assert removed.status_code == 200
    assert not PlaylistVideo.objects.filter(playlist=playlist, video=video).exists()


# Every write that names a playlist, as someone else sends it.
FOREIGN_WRITES = {
    "add a video": lambda client, playlist: client.post(entry_url(playlist.id, VideoFactory().id)),
    "remove a video": lambda client, playlist: client.delete(
        entry_url(playlist.id, first_video(playlist).id)
    ),
    "update": lambda client, playlist: client.patch(
        detail_url(playlist.id), {"visibility": "public", "name": "Mine now"}, format="json"
    ),
    "delete": lambda client, playlist: client.delete(detail_url(playlist.id)),
}


@pytest.mark.parametrize("write", FOREIGN_WRITES)
@pytest.mark.parametrize(("viewer", "visibility"), list(FOREIGN_WRITE))
def test_someone_else_changes_nothing(clients, playlists, viewer, visibility, write):
    playlist = playlists[visibility]
    before = snapshot(playlist)

    response = FOREIGN_WRITES[write](clients[viewer], playlist)

    assert response.status_code == FOREIGN_WRITE[viewer, visibility]
    if response.status_code == 404:
        assert response.json() == NOT_FOUND
    assert snapshot(playlist) == before


@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_the_owner_deletes_a_playlist_of_any_visibility(clients, playlists, visibility):
    response = clients["owner"].delete(detail_url(playlists[visibility].id))

    assert response.status_code == 200
    assert not Playlist.objects.filter(pk=playlists[visibility].pk).exists()


@pytest.mark.parametrize("old", VISIBILITIES)
@pytest.mark.parametrize("new", VISIBILITIES)
def test_the_owner_changes_the_visibility_and_only_it(clients, playlists, old, new):
    playlist = playlists[old]
    before, entries = snapshot(playlist)

    response = clients["owner"].patch(detail_url(playlist.id), {"visibility": new})

    assert response.status_code == 200
    playlist.refresh_from_db()
    assert playlist.visibility == new
    assert (playlist.name, playlist.description) == (before["name"], before["description"])
    assert snapshot(playlist)[1] == entries
    assert playlist.updated_at >= before["updated_at"]
    thumbnail = f"http://testserver/media/thumbnails/{old}.png"
    assert response.json() == success(
        playlist_summary(playlist, total_videos=1, thumbnail=thumbnail),
        "Playlist updated successfully",
    )


def test_making_a_playlist_private_hides_it_from_others_at_once(clients, owner, playlists):
    playlist = playlists["public"]

    clients["owner"].patch(detail_url(playlist.id), {"visibility": "private"}, format="json")

    assert clients["anonymous"].get(detail_url(playlist.id)).status_code == 404
    listed = clients["other"].get(list_url(owner.id)).json()["data"]
    assert (listed["docs"], listed["totalDocs"]) == ([], 0)


def test_making_a_private_playlist_public_lists_it(clients, owner, playlists):
    playlist = playlists["private"]

    clients["owner"].patch(detail_url(playlist.id), {"visibility": "public"}, format="json")

    names = [d["name"] for d in clients["anonymous"].get(list_url(owner.id)).json()["data"]["docs"]]
    assert names == ["Private", "Public"]


def test_a_patch_without_visibility_keeps_it(clients, playlists):
    playlist = playlists["private"]

    response = clients["owner"].patch(detail_url(playlist.id), {"name": "Renamed"})

    assert response.json()["data"]["visibility"] == "private"
    assert Playlist.objects.get(pk=playlist.pk).visibility == "private"


# --- setting it on create ---------------------------------------------------------------------


def test_a_new_playlist_is_public_by_default(clients, owner):
    response = clients["owner"].post("/api/v1/playlist", {"name": "Road trip"})

    assert response.status_code == 201
    assert response.json()["data"]["visibility"] == "public"
    assert Playlist.objects.get(owner=owner).visibility == "public"


@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("body_format", ["json", "multipart"])
def test_create_takes_a_visibility(clients, owner, visibility, body_format):
    response = clients["owner"].post(
        "/api/v1/playlist", {"name": "Chosen", "visibility": visibility}, format=body_format
    )

    assert response.status_code == 201
    playlist = Playlist.objects.get(owner=owner)
    assert playlist.visibility == visibility
    assert response.json() == success(
        playlist_summary(playlist, total_videos=0, thumbnail=None),
        "Playlist created successfully",
        status=201,
    )


# --- bad values -------------------------------------------------------------------------------

BAD_VALUES = ["secret", "Public", "PRIVATE", " public", "", None, 1, True, ["public"], {"a": 1}]


def assert_refused(response):
    assert response.status_code == 422
    assert response.json() == field_error("visibility", BAD_VISIBILITY)


@pytest.mark.parametrize("value", BAD_VALUES)
def test_create_refuses_a_bad_visibility_and_creates_nothing(clients, value):
    response = clients["owner"].post(
        "/api/v1/playlist", {"name": "Nope", "visibility": value}, format="json"
    )

    assert_refused(response)
    assert not Playlist.objects.exists()


@pytest.mark.parametrize("value", BAD_VALUES)
def test_update_refuses_a_bad_visibility_and_changes_nothing(clients, playlists, value):
    playlist = playlists["unlisted"]
    before = snapshot(playlist)

    response = clients["owner"].patch(
        detail_url(playlist.id), {"name": "Renamed", "visibility": value}, format="json"
    )

    assert_refused(response)
    assert snapshot(playlist) == before


@pytest.mark.parametrize("value", ["", "secret"])
def test_a_form_body_refuses_a_bad_or_blank_visibility(clients, playlists, value):
    playlist = playlists["private"]
    before = snapshot(playlist)

    created = clients["owner"].post(
        "/api/v1/playlist", {"name": "Nope", "visibility": value}, format="multipart"
    )
    updated = clients["owner"].patch(
        detail_url(playlist.id), {"visibility": value}, format="multipart"
    )

    assert_refused(created)
    assert_refused(updated)
    assert Playlist.objects.count() == len(VISIBILITIES)
    assert snapshot(playlist) == before


# --- the database's own guards ----------------------------------------------------------------


def test_a_row_inserted_without_the_column_is_public(owner):
    """What a server of the previous release writes while a deploy rolls out."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO playlists_playlist (id, owner_id, name, description, created_at,"
            " updated_at) VALUES (%s, %s, 'Old release', '', now(), now())",
            [UNKNOWN, owner.pk],
        )

    assert Playlist.objects.get(pk=UNKNOWN).visibility == "public"


def test_the_database_refuses_an_unknown_visibility(playlists):
    with pytest.raises(IntegrityError, match="playlist_visibility_valid"), transaction.atomic():
        Playlist.objects.filter(pk=playlists["public"].pk).update(visibility="secret")

    assert Playlist.objects.get(pk=playlists["public"].pk).visibility == "public"


# --- admin ------------------------------------------------------------------------------------


def test_staff_see_and_filter_the_visibility_in_the_admin(playlists):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get("/admin/playlists/playlist/", {"visibility__exact": "private"})

    assert response.status_code == 200
    changelist = response.context["cl"]
    assert "visibility" in changelist.list_display
    assert [p.pk for p in changelist.result_list] == [playlists["private"].pk]


# --- query budgets (as without visibility: the rule is a WHERE of the same queries) -----------


@pytest.mark.parametrize(("viewer", "queries"), [("owner", 4), ("other", 4), ("anonymous", 3)])
def test_query_budget_of_the_list(
    clients, owner, playlists, viewer, queries, django_assert_num_queries
):
    # (1 the caller)  1 does the user exist  2 COUNT  3 the page of playlists
    with django_assert_num_queries(queries):
        response = clients[viewer].get(list_url(owner.id))

    assert len(response.json()["data"]["docs"]) == len(LISTED[viewer])


# The detail and the videos list cost the same: (1 the caller, when signed in)  1 the playlist
# (with its count), or no row: 404  2 its videos, when it is readable. A hidden playlist costs
# what a missing one does.
BY_ID_BUDGETS = {
    ("owner", "public"): 3,
    ("owner", "unlisted"): 3,
    ("owner", "private"): 3,
    ("other", "public"): 3,
    ("other", "unlisted"): 3,
    ("other", "private"): 2,
    ("anonymous", "public"): 2,
    ("anonymous", "unlisted"): 2,
    ("anonymous", "private"): 1,
}


@pytest.mark.parametrize("url", [detail_url, videos_url], ids=["detail", "videos"])
@pytest.mark.parametrize(("viewer", "visibility"), CELLS)
def test_query_budget_by_id(clients, playlists, viewer, visibility, url, django_assert_num_queries):
    with django_assert_num_queries(BY_ID_BUDGETS[viewer, visibility]):
        response = clients[viewer].get(url(playlists[visibility].id))

    assert response.status_code == (200 if visibility in READABLE[viewer] else 404)
