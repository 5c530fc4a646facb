"""OpenAPI helpers: document responses inside the real envelope, with the real error shape.

Usage on a view method::

    @api_doc(response=VideoSerializer, name="Video", errors=(401, 404))
    @api_doc(response=VideoSerializer, name="VideoPage", paginated=True)
"""

import copy
import re

from django.core.validators import RegexValidator
from drf_spectacular.drainage import warn
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers

from viztube.api.cursor import CURSOR_MAX_LENGTH
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
CURSOR = "cursor"  # api_doc(paginated=CURSOR): a cursor walk


# A chunk of a resumable upload (PUT /uploads/{upload_id}) meets one more 503 before its view:
# the per-process cap on chunks in flight (viztube.middleware.UploadChunkCapMiddleware).
_CHUNK_503 = (
    "The database is unavailable, or this server is reading as many upload chunks as it reads "
    "at once (UPLOAD_CHUNKS_IN_FLIGHT): nothing of the chunk was read. Retry after Retry-After "
    "from the upload's offset."
)


def _error_response(code, description=None):
    return OpenApiResponse(
        ErrorEnvelopeSerializer,
        description=description or _ERROR_DESCRIPTIONS.get(code, "Error"),
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
    if paginated == CURSOR:
        return inline_serializer(
            name=f"{name}Page",
            fields={
                "docs": data(many=True),
                "limit": serializers.IntegerField(),
                "nextCursor": serializers.CharField(
                    allow_null=True,
                    help_text="The next page's `cursor`; null on the last page.",
                ),
            },
        )
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


def error_envelope(data, *, name):
    """The error envelope of an error whose ``data`` is not null (``viztube.errors``: the rare
    error that tells the client what to do next): ``data`` is that serializer."""
    return inline_serializer(
        name=f"{name}ErrorEnvelope",
        fields={
            **ErrorEnvelopeSerializer().get_fields(),
            "data": data(help_text="What to do next (null in every other error)."),
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
    more_responses=None,
    **kwargs,
):
    """``extend_schema`` with the success envelope and the listed error responses (plus 500).
    ``paginated``: True for numbered pages (``viztube.api.pagination``), ``CURSOR`` for a cursor
    walk (``viztube.api.cursor``); either adds its query parameters. ``more_responses``
    (``{status: OpenApiResponse}``) documents what the listed kinds do not: a second success
    status, an error whose ``data`` is not null."""
    responses = {status: envelope(response, name=name, many=many, paginated=paginated)}
    responses.update(more_responses or {})
    for code in (*errors, 400, 500):
        responses.setdefault(code, _error_response(code))
    if paginated:
        parameters = CURSOR_PARAMETERS if paginated == CURSOR else PAGE_PARAMETERS
        kwargs.setdefault("parameters", []).extend(parameters)
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


CURSOR_PARAMETERS = [
    OpenApiParameter(
        "limit",
        {**_POSITIVE_INTEGER, "maximum": MAX_LIMIT},
        OpenApiParameter.QUERY,
        description=f"Items per page, default {DEFAULT_LIMIT}; over {MAX_LIMIT} is a 400.",
    ),
    OpenApiParameter(
        "cursor",
        {"type": "string", "maxLength": CURSOR_MAX_LENGTH},
        OpenApiParameter.QUERY,
        description="The `nextCursor` of the previous page, as it came; none for the first page.",
    ),
]


class OneOfSerializer(serializers.Serializer):
    """An item of one of several shapes, picked by the item's ``type``: ``shapes`` maps each
    value of ``type`` to the serializer of that shape, which declares ``type`` with that one
    value. Documented as a ``oneOf`` of the shapes with ``type`` as the discriminator."""

    shapes = {}

    def to_representation(self, instance):
        # One serializer per shape for the whole list: building one per item would copy its
        # fields (and its nested serializers' fields) for every item.
        serializers_by_type = self.__dict__.setdefault("_shape_serializers", {})
        shape = serializers_by_type.get(instance.type)
        if shape is None:
            shape = serializers_by_type[instance.type] = self.shapes[instance.type](
                context=self.context
            )
        return shape.to_representation(instance)


class OneOfSerializerScheme(OpenApiSerializerExtension):
    target_class = OneOfSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        references = {
            value: auto_schema.resolve_serializer(shape, direction).ref
            for value, shape in self.target.shapes.items()
        }
        return {
            "oneOf": list(references.values()),
            "discriminator": {
                "propertyName": "type",
                "mapping": {value: ref["$ref"] for value, ref in references.items()},
            },
        }


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
        chunk = self.method == "PUT" and self.path.rstrip("/") == "/api/v1/uploads/{upload_id}"
        for code in map(str, plumbing):
            if code not in responses:
                description = _CHUNK_503 if chunk and code == "503" else None
                responses[code] = self._get_response_for_code(
                    _error_response(int(code), description), code, direction=direction
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
        documented as declared, so the document requires what the API requires. One whose
        ``openapi_request_schema`` requires a field (one of several, say, or exactly one) needs
        a body."""
        if self.method != "PATCH" or not getattr(serializer, "full_patch", False):
            schema, required = super()._get_request_for_media_type(serializer, direction)
            extra = getattr(serializer, "openapi_request_schema", None) or {}
            return schema, required or any(extra.get(key) for key in ("required", "anyOf", "oneOf"))
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


# --- Links: how the answer of one operation feeds the next ------------------------------------

_NEW_ID = "$response.body#/data/id"


def _link(operation_id, description, body=None, **parameters):
    link = {"operationId": operation_id, "description": description}
    if parameters:
        link["parameters"] = parameters
    if body is not None:
        link["requestBody"] = body
    return link


def _video_links(video_id):
    return {
        "GetVideo": _link("videos_by_video_id_get", "Read the video.", video_id=video_id),
        "UpdateVideo": _link(
            "videos_by_video_id_patch", "Edit the video (its owner).", video_id=video_id
        ),
        "DeleteVideo": _link(
            "videos_by_video_id_delete", "Delete the video (its owner).", video_id=video_id
        ),
        "TogglePublish": _link(
            "videos_toggle_publish_by_video_id_patch",
            "Publish or unpublish the video (its owner).",
            video_id=video_id,
        ),
        "CommentOnVideo": _link(
            "comments_by_video_id_post", "Comment on the video.", video_id=video_id
        ),
        "ListComments": _link(
            "comments_by_video_id_get", "The video's comments.", video_id=video_id
        ),
        "LikeVideo": _link(
            "likes_toggle_v_by_video_id_post",
            "Like the video (or take the like back).",
            video_id=video_id,
        ),
        "AddToPlaylist": _link(
            "playlist_by_playlist_id_by_video_id_post",
            "Add the video to one of the caller's playlists.",
            video_id=video_id,
        ),
    }


def _playlist_links(playlist_id):
    return {
        "GetPlaylist": _link(
            "playlist_by_playlist_id_get", "Read the playlist.", playlist_id=playlist_id
        ),
        "ListPlaylistVideos": _link(
            "playlist_by_playlist_id_videos_get",
            "The playlist's videos, a page at a time.",
            playlist_id=playlist_id,
        ),
        "UpdatePlaylist": _link(
            "playlist_by_playlist_id_patch",
            "Rename the playlist or change its description (its owner).",
            playlist_id=playlist_id,
        ),
        "DeletePlaylist": _link(
            "playlist_by_playlist_id_delete",
            "Delete the playlist (its owner).",
            playlist_id=playlist_id,
        ),
        "AddVideo": _link(
            "playlist_by_playlist_id_by_video_id_post",
            "Add a video to the playlist (its owner).",
            playlist_id=playlist_id,
        ),
    }


# {source operationId: {link name: link}}, attached to the source's success response. Response
# expressions read the answer's envelope (``data``); ``$request`` ones read what was sent.
OPERATION_LINKS = {
    "user_register_post": {
        "LogIn": _link(
            "user_login_post",
            "Log in to the new account with the password it was registered with.",
            body={
                "username": "$response.body#/data/username",
                "password": "$request.body#/password",
            },
        ),
    },
    "user_login_post": {
        "CurrentUser": _link(
            "user_current_user_details_get",
            "Read the account that logged in, with the access token of the answer.",
            **{"header.Authorization": "Bearer {$response.body#/data/accessToken}"},
        ),
        "RefreshToken": _link(
            "user_refresh_token_post",
            "Exchange the refresh token of the answer for a new pair.",
            body={"refreshToken": "$response.body#/data/refreshToken"},
        ),
    },
    "videos_post": _video_links(_NEW_ID),
    "videos_by_video_id_delete": {
        "GetDeletedVideo": _link(
            "videos_by_video_id_get",
            "The deleted video is gone: reading it answers 404.",
            video_id="$request.path.video_id",
        ),
    },
    "comments_by_video_id_post": {
        "ListComments": _link(
            "comments_by_video_id_get",
            "The comments of the video commented on, the new one among them.",
            video_id="$response.body#/data/videoId",
        ),
        "UpdateComment": _link(
            "comments_c_by_comment_id_patch",
            "Edit the comment (its author).",
            comment_id=_NEW_ID,
        ),
        "DeleteComment": _link(
            "comments_c_by_comment_id_delete",
            "Delete the comment (its author).",
            comment_id=_NEW_ID,
        ),
        "LikeComment": _link(
            "likes_toggle_c_by_comment_id_post",
            "Like the comment (or take the like back).",
            comment_id=_NEW_ID,
        ),
        "ListReplies": _link(
            "comments_c_by_comment_id_replies_get",
            "The replies of the thread the comment is in.",
            comment_id=_NEW_ID,
        ),
        "PinComment": _link(
            "comments_c_by_comment_id_pin_patch",
            "Pin the comment, or unpin it (the video's owner; not a reply).",
            comment_id=_NEW_ID,
        ),
        "HeartComment": _link(
            "comments_c_by_comment_id_heart_patch",
            "Heart the comment, or take the heart back (the video's owner).",
            comment_id=_NEW_ID,
        ),
    },
    "tweets_post": {
        "ListUserTweets": _link(
            "tweets_user_by_user_id_get",
            "The author's tweets, the new one among them.",
            user_id="$response.body#/data/userId",
        ),
        "UpdateTweet": _link(
            "tweets_by_tweet_id_patch", "Edit the tweet (its author).", tweet_id=_NEW_ID
        ),
        "DeleteTweet": _link(
            "tweets_by_tweet_id_delete", "Delete the tweet (its author).", tweet_id=_NEW_ID
        ),
        "LikeTweet": _link(
            "likes_toggle_t_by_tweet_id_post",
            "Like the tweet (or take the like back).",
            tweet_id=_NEW_ID,
        ),
    },
    "playlist_post": _playlist_links(_NEW_ID),
    "uploads_post": {
        "GetUpload": _link(
            "uploads_by_upload_id_get",
            "Where the new upload stands.",
            upload_id="$response.body#/data/uploadId",
        ),
        "SendChunk": _link(
            "uploads_by_upload_id_put",
            "Send the first chunk (Content-Range: bytes 0-<last>/<size>).",
            upload_id="$response.body#/data/uploadId",
        ),
        "CancelUpload": _link(
            "uploads_by_upload_id_delete",
            "Cancel the upload.",
            upload_id="$response.body#/data/uploadId",
        ),
    },
    "playlist_by_playlist_id_delete": {
        "GetDeletedPlaylist": _link(
            "playlist_by_playlist_id_get",
            "The deleted playlist is gone: reading it answers 404.",
            playlist_id="$request.path.playlist_id",
        ),
    },
}


def _operations_by_id(result):
    return {
        operation["operationId"]: operation
        for operations in result.get("paths", {}).values()
        for operation in operations.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


def _parameter_problems(link, target):
    """Link parameters ``target`` does not declare. The ``header.Authorization`` of a Bearer
    token counts as declared where the target accepts one (OpenAPI declares it as security)."""
    declared = {(p["in"], p["name"]) for p in target.get("parameters", [])}
    bearer = any("jwtAuth" in requirement for requirement in target.get("security", []))
    problems = []
    for key in link.get("parameters", {}):
        where, _, name = key.rpartition(".")
        if where:
            known = (where, name) in declared or (bearer and key == "header.Authorization")
        else:
            known = any(declared_name == name for _, declared_name in declared)
        if not known:
            problems.append(f"parameter {key!r}")
    return problems


def _resolve_body_fields(result, target):
    """The properties of each request body of ``target``, inlined from their components."""
    components = result.get("components", {}).get("schemas", {})
    for media in target.get("requestBody", {}).get("content", {}).values():
        reference = media.get("schema", {}).get("$ref")
        if reference:
            media_schema = components.get(reference.rsplit("/", 1)[1], {})
            yield from media_schema.get("properties", {})


def add_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: OpenAPI links from ``OPERATION_LINKS``, on each
    source operation's success response, so that clients (and stateful fuzzers) know which
    value of an answer addresses the next call. A source, target, parameter or body field that
    the document does not have is a generator warning (``spectacular --fail-on-warn`` fails)."""
    operations = _operations_by_id(result)
    for source_id, links in OPERATION_LINKS.items():
        source = operations.get(source_id)
        if source is None:
            warn(f"OpenAPI link source {source_id!r} is not an operationId of the document")
            continue
        for name, link in links.items():
            target = operations.get(link["operationId"])
            if target is None:
                warn(f"OpenAPI link {source_id}.{name}: no operation {link['operationId']!r}")
                continue
            fields = set(_resolve_body_fields(result, target))
            body = link.get("requestBody")
            unknown = [f"body field {key!r}" for key in body or {} if key not in fields]
            for problem in [*_parameter_problems(link, target), *unknown]:
                warn(f"OpenAPI link {source_id}.{name}: {link['operationId']} has no {problem}")
        success = min(code for code in source["responses"] if code.startswith("2"))
        source["responses"][success]["links"] = copy.deepcopy(links)
    return result
