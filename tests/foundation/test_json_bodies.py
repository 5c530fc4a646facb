"""A JSON body that is not an object is a malformed request: 400, and nothing changes."""

import pytest
from django.apps import apps
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from tests.factories import PlaylistFactory, VideoFactory
from viztube.api.envelope import ok

pytestmark = pytest.mark.django_db

NOT_AN_OBJECT = "The JSON body must be an object"
BODIES = ["[]", '["name"]', '"text"', "null", "1", "true", "1.5"]
# (method, path, whether the caller is logged in): routes that take a JSON body, among them
# views that keep the default parsers and views that list DRF's JSONParser themselves (login,
# refresh-token, logout, change-password, update-account).
ROUTES = [
    ("post", "/api/v1/user/login", False),
    ("post", "/api/v1/user/refresh-token", False),
    ("post", "/api/v1/user/logout", True),
    ("post", "/api/v1/user/change-password", True),
    ("patch", "/api/v1/user/update-account", True),
    ("post", "/api/v1/tweets", True),
    ("post", "/api/v1/comments/{video}", True),
    ("post", "/api/v1/playlist", True),
    ("patch", "/api/v1/playlist/{playlist}", True),
    ("patch", "/api/v1/videos/{video}", True),
]


def _rows():
    """Every table's rows, as plain values: any insert, update or delete shows up."""
    return {
        model._meta.label: sorted(map(repr, model.objects.values_list()))
        for model in apps.get_models()
    }


def _send(client, method, path, body):
    return getattr(client, method)(path, body, content_type="application/json")


@pytest.fixture
def world(user):
    video = VideoFactory(owner=user)
    playlist = PlaylistFactory(owner=user)
    return {"video": video.pk, "playlist": playlist.pk}


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize(("method", "path", "logged_in"), ROUTES, ids=[r[1] for r in ROUTES])
def test_a_json_body_that_is_not_an_object_is_a_400_and_changes_nothing(
    api_client, auth_client, world, method, path, logged_in, body
):
    client = auth_client if logged_in else api_client
    before = _rows()

    response = _send(client, method, path.format(**world), body)

    assert response.status_code == 400, response.content
    assert response.json() == {
        "statusCode": 400,
        "data": None,
        "success": False,
        "message": NOT_AN_OBJECT,
        "errors": [NOT_AN_OBJECT],
    }
    assert _rows() == before


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/api/v1/tweets", '{"content": "hello"}', 201),
        ("post", "/api/v1/playlist", '{"name": "Later"}', 201),
        ("patch", "/api/v1/user/update-account", '{"fullname": "New Name"}', 200),
        ("post", "/api/v1/comments/{video}", "{}", 422),
    ],
)
def test_a_json_object_is_still_read(auth_client, world, method, path, body, status):
    """Control for the test above: the same routes read an object as before."""
    response = _send(auth_client, method, path.format(**world), body)
    assert response.status_code == status, response.content


def test_unreadable_json_keeps_the_parse_error_message(auth_client):
    response = _send(auth_client, "post", "/api/v1/tweets", "[1,")

    assert response.status_code == 400
    assert response.json()["message"].startswith("JSON parse error")


def test_register_takes_multipart_only_so_a_json_body_stays_a_415(api_client):
    before = _rows()

    response = _send(api_client, "post", "/api/v1/user/register", "[]")

    assert response.status_code == 415
    assert response.json()["success"] is False
    assert _rows() == before


class EchoView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]  # DRF's own, as a view may list it

    def post(self, request):
        return ok(request.data, "read")


@pytest.mark.parametrize(("body", "status"), [("[1, 2]", 400), ('{"a": [1, 2]}', 200)])
def test_a_view_listing_drfs_json_parser_gets_the_object_rule_too(body, status):
    request = APIRequestFactory().post("/echo", body, content_type="application/json")

    response = EchoView.as_view()(request)

    assert response.status_code == status
    if status == 400:
        assert response.data["message"] == NOT_AN_OBJECT
    else:
        assert response.data["data"] == {"a": [1, 2]}
