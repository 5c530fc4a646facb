import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from viztube.api.exceptions import BadRequest
from viztube.api.pagination import PageRequest, page_body

factory = APIRequestFactory()


def _page(query):
    return PageRequest.from_request(Request(factory.get("/x", query)))


def test_defaults():
    assert _page({}) == PageRequest(page=1, limit=10)


def test_limit_over_the_cap_is_clamped():
    assert _page({"limit": "500"}).limit == 100


@pytest.mark.parametrize(
    "query",
    [
        {"page": "-1"},
        {"page": "0"},
        {"page": "abc"},
        {"page": "1.5"},
        {"limit": "0"},
        {"limit": "-3"},
        {"limit": "ten"},
        {"page": "٣"},
        {"page": "99999999999"},
    ],
)
def test_values_that_are_not_positive_integers_are_400(query):
    with pytest.raises(BadRequest):
        _page(query)


def test_repeated_parameter_is_400():
    with pytest.raises(BadRequest):
        PageRequest.from_request(Request(factory.get("/x?page=1&page=2")))


def test_page_body_shape():
    assert page_body(["a", "b"], 12, PageRequest(page=2, limit=5)) == {
        "docs": ["a", "b"],
        "totalDocs": 12,
        "limit": 5,
        "page": 2,
        "totalPages": 3,
        "hasNextPage": True,
        "hasPrevPage": True,
    }
    assert page_body([], 0, PageRequest(page=1, limit=10))["totalPages"] == 0
