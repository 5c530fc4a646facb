"""viztube.api.query: a request without any of a route's parameters answers what validation
would, without validating (the common request of a list)."""

import pytest
from django.test import RequestFactory
from rest_framework import serializers
from rest_framework.request import Request

from viztube.api.exceptions import BadRequest
from viztube.api.query import QueryParamsSerializer


def request(query=""):
    return Request(RequestFactory().get(f"/x{query}"))


class Optional(QueryParamsSerializer):
    kind = serializers.ChoiceField(choices=["a", "b"], required=False)


class WithDefault(QueryParamsSerializer):
    kind = serializers.CharField(required=False, default="a")


class Required(QueryParamsSerializer):
    kind = serializers.CharField()


class WithItsOwnRule(QueryParamsSerializer):
    kind = serializers.CharField(required=False)

    def validate(self, attrs):
        raise serializers.ValidationError("always")


def test_absent_parameters_parse_to_nothing_and_others_are_ignored():
    assert Optional(request("?other=1")).parse() == {}
    assert Optional.parse_request(request("?other=1")) == {}
    assert Optional.parse_request(request("?kind=a")) == {"kind": "a"}
    assert Optional(request("?kind=b")).parse() == {"kind": "b"}
    with pytest.raises(BadRequest):
        Optional(request("?kind=c")).parse()
    with pytest.raises(BadRequest, match="given once"):
        Optional(request("?kind=a&kind=b")).parse()


def test_defaults_requirements_and_rules_still_apply_when_nothing_is_sent():
    assert WithDefault(request()).parse() == {"kind": "a"}
    assert WithDefault.parse_request(request()) == {"kind": "a"}
    with pytest.raises(BadRequest):
        Required(request()).parse()
    with pytest.raises(BadRequest, match="always"):
        WithItsOwnRule(request()).parse()
