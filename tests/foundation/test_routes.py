"""The API's routes are one flat list ordered by traffic (viztube/urls.py): that order must never
decide which route answers a path."""

import re

import pytest
from django.urls import resolve

from viztube.middleware import API_PREFIX
from viztube.urls import api_v1

SAMPLE_ID = "0190a4f2-0000-7000-8000-000000000001"


def sample_path(pattern):
    """A path the route answers: each placeholder (a path segment) replaced by an id."""
    regex = pattern.pattern.regex.pattern.removeprefix("^").removesuffix("/?$")
    filled = re.sub(r"\(\?P<\w+>\[\^/\]\+\)", SAMPLE_ID, regex)
    return API_PREFIX + re.sub(r"\\(.)", r"\1", filled)


NAMED_ROUTES = [pattern for pattern in api_v1 if pattern.name]


@pytest.mark.parametrize("pattern", NAMED_ROUTES, ids=lambda pattern: pattern.name)
def test_each_route_answers_its_own_paths(pattern):
    path = sample_path(pattern)
    assert pattern.pattern.regex.match(path.removeprefix(API_PREFIX))

    assert resolve(path).url_name == pattern.name
    assert resolve(path + "/").url_name == pattern.name


def test_the_api_is_tried_first_and_ends_in_its_own_404():
    assert len(NAMED_ROUTES) >= 35
    assert len({pattern.name for pattern in NAMED_ROUTES}) == len(NAMED_ROUTES)
    assert resolve(API_PREFIX + "no/such/route").func.__name__ == "not_found"
    assert resolve("/").url_name == "landing"
    assert resolve("/api/docs/").url_name == "docs"
