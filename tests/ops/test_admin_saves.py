"""Staff edits in the admin go through the services, so every cache follows at once: the cached
GET /videos pages and the authentication's copy of the user (there are no signal receivers)."""

from django import forms

from tests.conftest import bearer_client
from tests.factories import UserFactory, VideoFactory

VIDEOS = "/api/v1/videos"
ME = "/api/v1/user/current-user-details"


def _change(admin_client, url, **changes):
    """Submit the admin change form at ``url`` as shown, with ``changes`` applied."""
    form = admin_client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled or isinstance(field, forms.FileField):
            continue  # an empty file input keeps the stored file
        value = form.initial.get(name, field.initial)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = "" if value is None else getattr(value, "pk", value)
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = value
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def listed(api_client):
    return api_client.get(VIDEOS).json()["data"]["docs"]


def test_renaming_an_owner_in_the_admin_shows_in_the_cached_list_at_once(admin_client, api_client):
    owner = UserFactory(username="before")
    VideoFactory(owner=owner)
    assert [doc["user"]["username"] for doc in listed(api_client)] == ["before"]

    _change(admin_client, f"/admin/accounts/user/{owner.pk}/change/", username="after")

    assert [doc["user"]["username"] for doc in listed(api_client)] == ["after"]


def test_retitling_a_video_in_the_admin_shows_in_the_cached_list_at_once(admin_client, api_client):
    video = VideoFactory(title="Before")
    assert [doc["title"] for doc in listed(api_client)] == ["Before"]

    _change(admin_client, f"/admin/videos/video/{video.pk}/change/", title="After")

    assert [doc["title"] for doc in listed(api_client)] == ["After"]


def test_unpublishing_in_the_admin_removes_the_video_from_the_cached_list(admin_client, api_client):
    video = VideoFactory(title="Shown")
    assert len(listed(api_client)) == 1

    _change(admin_client, f"/admin/videos/video/{video.pk}/change/", visibility="private")

    assert listed(api_client) == []


def test_deactivating_in_the_change_form_stops_the_users_token_at_once(admin_client):
    user = UserFactory()
    client = bearer_client(user)
    assert client.get(ME).status_code == 200  # the copy is cached now

    _change(admin_client, f"/admin/accounts/user/{user.pk}/change/", is_active=False)

    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["success"] is False
