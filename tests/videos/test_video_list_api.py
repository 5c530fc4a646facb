"""GET /videos: published only, full-text search, sorting, owner filter, pagination, budget."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import UserFactory, VideoFactory
from tests.videos.conftest import VIDEOS, error, video_shape
from videos.models import Video
from videos.selectors import VideoListFilters, prefix_tsquery, video_list_published

pytestmark = pytest.mark.django_db


def aged(video, minutes):
    """Move ``video`` ``minutes`` into the past (created_at is auto_now_add)."""
    moment = timezone.now() - timedelta(minutes=minutes)
    Video.objects.filter(pk=video.pk).update(created_at=moment, updated_at=moment)
    video.refresh_from_db()
    return video


def ids(response):
    return [doc["id"] for doc in response.json()["data"]["docs"]]


def test_anonymous_gets_published_videos_newest_first_in_the_list_shape(api_client):
    old = aged(VideoFactory(), 30)
    new = aged(VideoFactory(), 10)
    VideoFactory(is_published=False)

    response = api_client.get(VIDEOS)

    assert response.status_code == 200
    assert response.json() == {
        "statusCode": 200,
        "data": {
            "docs": [video_shape(new), video_shape(old)],
            "totalDocs": 2,
            "limit": 10,
            "page": 1,
            "totalPages": 1,
            "hasNextPage": False,
            "hasPrevPage": False,
        },
        "message": "Videos fetched successfully",
        "success": True,
    }


@pytest.mark.parametrize("client_name", ["auth_client", "other_client", "staff_client"])
def test_unpublished_videos_are_listed_for_nobody_not_even_the_owner(request, user, client_name):
    published = VideoFactory(owner=user)
    VideoFactory(owner=user, is_published=False)

    response = request.getfixturevalue(client_name).get(VIDEOS)

    assert response.status_code == 200
    assert ids(response) == [str(published.pk)]


def test_empty_list_is_an_empty_page(api_client):
    response = api_client.get(VIDEOS)

    assert response.status_code == 200
    assert response.json()["data"] == {
        "docs": [],
        "totalDocs": 0,
        "limit": 10,
        "page": 1,
        "totalPages": 0,
        "hasNextPage": False,
        "hasPrevPage": False,
    }


def test_pagination_pages_through_without_overlap(api_client):
    videos = [aged(VideoFactory(), minutes) for minutes in (5, 4, 3, 2, 1)]

    first = api_client.get(VIDEOS, {"limit": 2, "page": 1}).json()["data"]
    third = api_client.get(VIDEOS, {"limit": 2, "page": 3}).json()["data"]

    assert [d["id"] for d in first["docs"]] == [str(videos[4].pk), str(videos[3].pk)]
    assert (first["totalDocs"], first["totalPages"], first["hasNextPage"]) == (5, 3, True)
    assert [d["id"] for d in third["docs"]] == [str(videos[0].pk)]
    assert (third["hasNextPage"], third["hasPrevPage"]) == (False, True)


@pytest.mark.parametrize(
    ("sort_by", "sort_type", "expected"),
    [
        ("views", "desc", ["b", "c", "a"]),
        ("views", "ASC", ["a", "c", "b"]),
        ("duration", "asc", ["c", "a", "b"]),
        ("duration", "Desc", ["b", "a", "c"]),
        ("title", "asc", ["a", "b", "c"]),
        ("title", "desc", ["c", "b", "a"]),
        ("createdAt", "asc", ["a", "b", "c"]),
        ("createdAt", "desc", ["c", "b", "a"]),
        ("views", None, ["b", "c", "a"]),  # sortType defaults to desc
    ],
)
def test_sort_by_each_allowed_key_in_both_directions(api_client, sort_by, sort_type, expected):
    videos = {
        "a": aged(VideoFactory(title="Alpha", views=1, duration=20.0), 30),
        "b": aged(VideoFactory(title="Bravo", views=300, duration=90.0), 20),
        "c": aged(VideoFactory(title="Charlie", views=20, duration=5.0), 10),
    }
    params = {"sortBy": sort_by}
    if sort_type:
        params["sortType"] = sort_type

    response = api_client.get(VIDEOS, params)

    assert response.status_code == 200
    assert ids(response) == [str(videos[key].pk) for key in expected]


def test_sort_type_alone_orders_by_creation(api_client):
    old = aged(VideoFactory(), 20)
    new = aged(VideoFactory(), 10)

    assert ids(api_client.get(VIDEOS, {"sortType": "asc"})) == [str(old.pk), str(new.pk)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sortBy": "password"}, "'sortBy' must be one of: createdAt, views, duration, title"),
        ({"sortBy": "created_at"}, "'sortBy' must be one of: createdAt, views, duration, title"),
        ({"sortType": "up"}, "'sortType' must be 'asc' or 'desc'"),
        ({"userId": "42"}, "'userId' must be a UUID"),
        ({"query": "x" * 201}, "'query' must be at most 200 characters"),
        ({"page": "0"}, "'page' must be a positive integer"),
        ({"limit": "-1"}, "'limit' must be a positive integer"),
        ({"page": "1.5"}, "'page' must be a positive integer"),
    ],
)
def test_bad_query_parameters_are_400(api_client, params, message):
    VideoFactory()

    response = api_client.get(VIDEOS, params)

    assert response.status_code == 400
    assert error(response)["message"] == message


def test_a_repeated_parameter_is_400(api_client):
    response = api_client.get(f"{VIDEOS}?sortBy=views&sortBy=title")

    assert response.status_code == 400
    assert error(response)["message"] == "'sortBy' must be given once"


def test_user_id_filters_by_owner(api_client):
    owner = UserFactory()
    mine = [VideoFactory(owner=owner), VideoFactory(owner=owner)]
    VideoFactory()
    VideoFactory(owner=owner, is_published=False)

    response = api_client.get(VIDEOS, {"userId": str(owner.pk)})

    assert sorted(ids(response)) == sorted(str(v.pk) for v in mine)


def test_unknown_but_well_formed_user_id_is_an_empty_page(api_client):
    VideoFactory()

    response = api_client.get(VIDEOS, {"userId": str(uuid.uuid4())})

    assert response.status_code == 200
    assert response.json()["data"]["docs"] == []
    assert response.json()["data"]["totalDocs"] == 0


# --- Search -------------------------------------------------------------------------------------


@pytest.fixture
def catalogue():
    """A handful of titles and descriptions to search (ages decide ties)."""
    return {
        "title_hit": aged(
            VideoFactory(title="Django tutorial for beginners", description="Learn the web."),
            50,
        ),
        "description_hit": aged(
            VideoFactory(title="Web frameworks compared", description="Rails, Django and more."),
            40,
        ),
        "both_hit": aged(
            VideoFactory(title="Django deployment", description="Deploying Django with gunicorn."),
            30,
        ),
        "cooking": aged(VideoFactory(title="Cooking pasta", description="Tomatoes."), 20),
        "hidden": VideoFactory(title="Django secrets", is_published=False),
    }


def test_search_ranks_title_matches_above_description_matches(api_client, catalogue):
    response = api_client.get(VIDEOS, {"query": "django"})

    assert response.status_code == 200
    found = ids(response)
    # The unpublished match never appears; every published match does.
    assert set(found) == {
        str(catalogue[key].pk) for key in ("title_hit", "description_hit", "both_hit")
    }
    assert found[-1] == str(catalogue["description_hit"].pk)
    assert found[0] == str(catalogue["both_hit"].pk)  # title + description beats title alone
    assert response.json()["data"]["totalDocs"] == 3


def test_search_matches_the_last_word_as_a_prefix(api_client, catalogue):
    assert ids(api_client.get(VIDEOS, {"query": "djan"})) != []
    assert ids(api_client.get(VIDEOS, {"query": "django begin"})) == [
        str(catalogue["title_hit"].pk)
    ]
    # Only the last word is a prefix: "dja tutorial" needs the word "dja".
    assert ids(api_client.get(VIDEOS, {"query": "dja tutorial"})) == []


def test_search_uses_stemming_and_ignores_case(api_client, catalogue):
    assert ids(api_client.get(VIDEOS, {"query": "DEPLOYS"})) == [str(catalogue["both_hit"].pk)]


def test_search_with_a_sort_key_orders_by_that_key(api_client, catalogue):
    Video.objects.filter(pk=catalogue["description_hit"].pk).update(views=500)

    response = api_client.get(VIDEOS, {"query": "django", "sortBy": "views"})

    assert ids(response)[0] == str(catalogue["description_hit"].pk)


@pytest.mark.parametrize(
    "query", ["django & | ! ( ) :* ' \\", "django') OR 1=1 --", "<-> django:*B", "'django'"]
)
def test_tsquery_syntax_in_the_query_is_harmless(api_client, catalogue, query):
    response = api_client.get(VIDEOS, {"query": query})

    assert response.status_code == 200
    assert str(catalogue["cooking"].pk) not in ids(response)


def test_query_without_any_word_matches_nothing(api_client, catalogue):
    response = api_client.get(VIDEOS, {"query": "!!! ???"})

    assert response.status_code == 200
    assert ids(response) == []


def test_blank_query_is_no_filter(api_client, catalogue):
    assert len(ids(api_client.get(VIDEOS, {"query": "   "}))) == 4


def test_search_combines_with_the_owner_filter(api_client, catalogue):
    owner = catalogue["both_hit"].owner

    response = api_client.get(VIDEOS, {"query": "django", "userId": str(owner.pk)})

    assert ids(response) == [str(catalogue["both_hit"].pk)]


def test_prefix_tsquery_keeps_only_words():
    assert prefix_tsquery("Django & beginners:* !") == "django & beginners:*"
    assert prefix_tsquery("  ") == ""
    assert prefix_tsquery("l'été") == "l & été:*"


def test_sqlite_fallback_is_a_substring_match(settings, catalogue):
    # The one function that knows the database; exercised here through its other branch.
    settings.IS_POSTGRES = False

    found = list(video_list_published(filters=VideoListFilters(query="jang")))

    assert {v.pk for v in found} == {
        catalogue[key].pk for key in ("title_hit", "description_hit", "both_hit")
    }


# --- Query budget -------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [3, 20])
def test_list_runs_a_fixed_number_of_queries(
    api_client, auth_client, django_assert_num_queries, limit
):
    for _ in range(20):
        VideoFactory()

    # 1. the published-video total (the catalog row), 2. the page with owners joined.
    with django_assert_num_queries(2):
        response = api_client.get(VIDEOS, {"limit": limit})
    assert len(response.json()["data"]["docs"]) == limit

    # 1. the authenticated user, 2. COUNT of the matches (a search cannot use the catalog row),
    # 3. the page (owners joined).
    with django_assert_num_queries(3):
        response = auth_client.get(VIDEOS, {"limit": limit, "query": "video"})
    assert len(response.json()["data"]["docs"]) == limit
