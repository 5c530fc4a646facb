"""OpenAPI helpers: document responses inside the real envelope, with the real error shape.

Usage on a view method::

    @api_doc(response=VideoSerializer, name="Video", errors=(401, 404))
    @api_doc(response=VideoSerializer, name="VideoPage", paginated=True)
"""

import re

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers

from viztube.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE

_ERROR_DESCRIPTIONS = {
    400: "Malformed request (bad JSON, bad query parameter)",
    401: "Not authenticated",
    403: "Authenticated but not allowed",
    404: "Missing, or not visible to the caller",
    409: "Conflict",
    413: "Upload too large",
    414: "Request URI too long",
    415: "Unsupported media type",
    422: "Field validation failed",
    429: "Throttled (see Retry-After)",
    502: "The media storage service failed",
    503: "The database is unavailable (see Retry-After)",
}
_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _error_response(code):
    return OpenApiResponse(
        ErrorEnvelopeSerializer, description=_ERROR_DESCRIPTIONS.get(code, "Error")
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    statusCode = serializers.IntegerField()
    data = serializers.JSONField(allow_null=True, default=None, help_text="Always null.")
    success = serializers.BooleanField(default=False)
    message = serializers.CharField()
    errors = serializers.ListField(child=serializers.CharField())
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per request field, when the error is about fields.",
    )

    class Meta:
        ref_name = "ErrorEnvelope"


def _data_field(data, name, many, paginated):
    if data is None:
        return serializers.DictField(help_text="Empty object.")
    if isinstance(data, serializers.Field):
        return data
    if paginated:
        return inline_serializer(
            # Named after the operation, not the item: two lists of one item type stay distinct.
            name=f"{name}Page",
            fields={
                "docs": data(many=True),
                "totalDocs": serializers.IntegerField(),
                "limit": serializers.IntegerField(),
                "page": serializers.IntegerField(),
                "totalPages": serializers.IntegerField(),
                "hasNextPage": serializers.BooleanField(),
                "hasPrevPage": serializers.BooleanField(),
            },
        )
    return data(many=many)


def envelope(data, *, name, many=False, paginated=False):
    """A serializer describing ``{statusCode, data, message, success}`` around ``data``."""
    return inline_serializer(
        name=f"{name}Envelope",
        fields={
            "statusCode": serializers.IntegerField(),
            "data": _data_field(data, name, many, paginated),
            "message": serializers.CharField(),
            "success": serializers.BooleanField(),
        },
    )


def api_doc(
    *,
    name,
    response=None,
    request=None,
    status=200,
    many=False,
    paginated=False,
    errors=(401,),
    **kwargs,
):
    """``extend_schema`` with the success envelope and the listed error responses (plus 500)."""
    responses = {status: envelope(response, name=name, many=many, paginated=paginated)}
    for code in (*errors, 400, 500):
        responses.setdefault(code, _error_response(code))
    if paginated:
        kwargs.setdefault("parameters", []).extend(PAGE_PARAMETERS)
    return extend_schema(request=request, responses=responses, **kwargs)


# Both must be positive integers (anything else is a 400): the schema says what is enforced.
_POSITIVE_INTEGER = {"type": "integer", "minimum": 1}

PAGE_PARAMETERS = [
    OpenApiParameter(
        "page",
        {**_POSITIVE_INTEGER, "maximum": MAX_PAGE},
        OpenApiParameter.QUERY,
        description="Page number, from 1 (default 1).",
    ),
    OpenApiParameter(
        "limit",
        _POSITIVE_INTEGER,
        OpenApiParameter.QUERY,
        description=f"Items per page, default {DEFAULT_LIMIT}; values over {MAX_LIMIT} are clamped.",
    ),
]


class JWTCookieOrHeaderScheme(OpenApiAuthenticationExtension):
    """Documents our authentication: a Bearer access token, or the ``accessToken`` cookie."""

    target_class = "accounts.authentication.JWTCookieOrHeaderAuthentication"
    name = ["jwtAuth", "cookieAuth"]

    def get_security_requirement(self, auto_schema):
        # Either scheme suffices (a list of requirements is an OR in OpenAPI).
        return [{"jwtAuth": []}, {"cookieAuth": []}]

    def get_security_definition(self, auto_schema):
        return [
            build_bearer_security_scheme_object(
                header_name="HTTP_AUTHORIZATION",
                token_prefix="Bearer",  # noqa: S106 (a scheme name)
                bearer_format="JWT",
            ),
            {"type": "apiKey", "in": "cookie", "name": "accessToken"},
        ]


NO_NUL_PATTERN = "^[^\\u0000]*$"
# A text the server trims before checking it must keep a character after trimming: a string of
# blanks only ("\r", "  ") is refused like an empty one (422), and the document says so.
NOT_BLANK_PATTERN = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
_EMPTY_STRING = {"type": "string", "maxLength": 0}


class ApiAutoSchema(AutoSchema):
    """Operation ids from the whole path, parameters included, so that two routes never collide:
    ``GET /videos`` → ``videos_get``, ``GET /videos/{video_id}`` → ``videos_by_video_id_get``."""

    def get_operation_id(self):
        tokens = [token for token in self.path.split("/") if token][2:]  # drop "api", "v1"
        words = [
            f"by_{token[1:-1]}" if token.startswith("{") else token.replace("-", "_")
            for token in tokens
        ]
        return "_".join([*words, self.method.lower()])

    def _get_response_bodies(self, direction="response"):
        """Every operation also lists the errors that its view's plumbing can answer, whatever
        the operation: 401 where a credential is read (a bad token fails even on a public
        route), 403 on unsafe methods where the cookie's cross-site check applies, 429 where a
        throttle counts, 414 for a URI over the limit, 503 when the database is down. One
        place, so no operation forgets.
        (A hook here, not in ``get_response_serializers``: ``extend_schema`` overrides that.)"""
        responses = super()._get_response_bodies(direction)
        view = self.view
        plumbing = [414, 503]
        if view.authentication_classes:
            plumbing.append(401)
            if self.method in _UNSAFE_METHODS:
                plumbing.append(403)
        if view.throttle_classes:
            plumbing.append(429)
        for code in map(str, plumbing):
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    _error_response(int(code)), code, direction=direction
                )
        return dict(sorted(responses.items(), key=lambda item: int(item[0])))

    def _map_basic_serializer(self, serializer, direction):
        """A request serializer may add to its component what its fields cannot say, as
        ``openapi_request_schema`` (e.g. "one of these two fields is required"): the rules its
        ``validate()`` enforces, so that the document requires what the server requires."""
        schema = super()._map_basic_serializer(serializer, direction)
        extra = getattr(serializer, "openapi_request_schema", None)
        if direction == "request" and extra:
            extra = dict(extra)
            properties = {
                name: {**schema.get("properties", {}).get(name, {}), **rules}
                for name, rules in extra.pop("properties", {}).items()
            }
            required = {*schema.get("required", []), *extra.pop("required", [])}
            schema = {**schema, **extra, "required": sorted(required)}
            schema["properties"] = {**schema.get("properties", {}), **properties}
        return schema

    def _is_list_view(self, serializer=None):
        """Lists document their page themselves, inside the envelope (``api_doc(paginated=True)``
        and its page parameters): drf-spectacular's own wrapping of a viewset's ``list`` would
        nest a second page shape around it."""
        return False

    def _get_request_for_media_type(self, serializer, direction="request"):
        """drf-spectacular documents every PATCH body as partial (no field required), as DRF's
        ``partial=True`` validates it. An input serializer that its PATCH view validates in full
        (e.g. a comment edit, whose ``content`` is required) says ``full_patch = True`` and is
        documented as declared, so the document requires what the API requires."""
        if self.method != "PATCH" or not getattr(serializer, "full_patch", False):
            return super()._get_request_for_media_type(serializer, direction)
        self.method = "PUT"
        try:
            return super()._get_request_for_media_type(serializer, direction)
        finally:
            self.method = "PATCH"

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """Text inputs say that they refuse the NUL character, as DRF's ``CharField`` does (422)
        and as PostgreSQL must (its text cannot hold one): without it the document promised
        that any string is accepted."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
            and not {"pattern", "format", "enum"} & schema.keys()
            # A regex validator documents its own pattern (drf-spectacular adds it afterwards).
            and not any(isinstance(v, RegexValidator) for v in field.validators)
        ):
            trimmed_and_required = field.trim_whitespace and not field.allow_blank
            schema["pattern"] = NOT_BLANK_PATTERN if trimmed_and_required else NO_NUL_PATTERN
        return schema

    def _insert_field_validators(self, field, schema):
        """drf-spectacular describes a text that may be blank as ``oneOf: [text, ""]``; where
        the text's own schema admits "" too, that is ambiguous ("" matches both, which
        ``oneOf`` forbids) and refuses what the server accepts. One schema when it already
        admits "", else ``anyOf``."""
        super()._insert_field_validators(field, schema)
        branches = schema.get("oneOf")
        if not branches or len(branches) != 2 or branches[1] != _EMPTY_STRING:
            return
        text = branches[0]
        admits_empty = (
            "format" not in text
            and not text.get("minLength")
            and re.search(text.get("pattern", ""), "") is not None
        )
        if admits_empty:
            del schema["oneOf"]
            schema.update(text)
        else:
            schema["anyOf"] = schema.pop("oneOf")
