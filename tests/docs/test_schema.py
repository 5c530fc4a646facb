"""The OpenAPI document: generated with zero warnings, valid, and covering every API route."""

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from viztube.api import schema as api_schema

API_PREFIX = "api/v1/"
_HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _template(regex):
    """``api/v1/^videos/(?P<video_id>...)/?$`` → ``/api/v1/videos/{video_id}/``."""
    path = regex.replace("^", "").replace("/?$", "").replace("$", "")
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path)
    return "/" + path.rstrip("/") + "/"


def _view_classes():
    """``{(path, method): view class}`` of every API route, from the URL resolver."""
    classes = {}
    for regex, callback in _walk(get_resolver().url_patterns):
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if not regex.startswith(API_PREFIX) or view_class is None:
            continue
        for method in _HTTP_METHODS:
            if hasattr(view_class, method) or method in getattr(callback, "actions", {}):
                classes[(_template(regex), method)] = view_class
    return classes


def api_routes():
    """Every (path, method) the URL resolver serves under /api/v1, from the views themselves."""
    return set(_view_classes())


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    target = tmp_path_factory.mktemp("schema") / "schema.yaml"
    # --fail-on-warn: any generator warning (unresolvable serializer, collision...) fails here.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    return yaml.safe_load(target.read_text())


def test_every_api_route_is_in_the_schema(schema):
    documented = {
        (path, method)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in _HTTP_METHODS
    }
    routes = api_routes()
    assert len(routes) > 30
    assert routes - documented == set()


def test_every_operation_documents_the_error_envelope(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS or path.endswith("/healthcheck/"):
                continue
            responses = operation["responses"]
            errors = [code for code in responses if code.startswith(("4", "5"))]
            assert errors, f"{method.upper()} {path} documents no error response"
            for code in errors:
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                if ref.endswith("/ErrorEnvelope"):
                    continue
                # An error whose data says what to do next (a resumable upload's 409): the
                # same envelope, with its own data.
                component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
                envelope = schema["components"]["schemas"]["ErrorEnvelope"]
                assert ref.endswith("ErrorEnvelope"), (method, path, code)
                assert set(component["properties"]) == set(envelope["properties"])
                assert set(envelope["required"]) <= set(component["required"])


def test_success_responses_are_enveloped(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS or path.endswith("/healthcheck/"):
                continue
            success = [c for c in operation["responses"] if c.startswith("2")]
            assert success, f"{method.upper()} {path} has no success response"
            ref = operation["responses"][success[0]]["content"]["application/json"]["schema"][
                "$ref"
            ]
            component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
            assert set(component["properties"]) == {"statusCode", "data", "message", "success"}, (
                method,
                path,
            )


@pytest.mark.django_db
def test_docs_pages_are_served(client):
    schema_response = client.get("/api/schema/")
    assert schema_response.status_code == 200
    assert b"openapi: 3" in schema_response.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_every_throttled_operation_documents_429(schema):
    views = _view_classes()
    throttled = [route for route, view in views.items() if view.throttle_classes]
    assert len(throttled) > 30
    missing = [
        route
        for route in throttled
        if "429" not in schema["paths"][route[0]][route[1]]["responses"]
    ]
    assert missing == []
    # The health check is the one route without a throttle: it must not promise a 429.
    assert "429" not in schema["paths"]["/api/v1/healthcheck/"]["get"]["responses"]


def test_every_operation_that_reads_a_credential_documents_401_and_503(schema):
    views = _view_classes()
    for (path, method), view in views.items():
        responses = schema["paths"][path][method]["responses"]
        assert "503" in responses, (path, method)
        if view.authentication_classes:
            assert "401" in responses, (path, method)
    # A public list still reads a Bearer token when one is sent: a bad one is a 401.
    assert "401" in schema["paths"]["/api/v1/videos/"]["get"]["responses"]


def test_only_the_upload_chunk_documents_the_cap_on_chunks_in_flight(schema):
    describing = {
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in _HTTP_METHODS
        and "UPLOAD_CHUNKS_IN_FLIGHT"
        in operation["responses"].get("503", {}).get("description", "")
    }
    assert describing == {("/api/v1/uploads/{upload_id}/", "put")}
    chunk = schema["paths"]["/api/v1/uploads/{upload_id}/"]["put"]["responses"]["503"]
    assert chunk["description"].startswith("The database is unavailable, or this server")


def test_unsafe_operations_document_the_cross_site_403(schema):
    views = _view_classes()
    for path, operations in schema["paths"].items():
        for method in ("post", "patch", "put", "delete"):
            # The cross-site check belongs to cookie authentication: a route that reads no
            # credential (Cloudinary's webhook, signed by Cloudinary) has none.
            if method in operations and views[(path, method)].authentication_classes:
                assert "403" in operations[method]["responses"], (path, method)


def _schemas(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


def test_no_text_is_described_ambiguously(schema):
    """``oneOf: [text, ""]`` where the text admits "" makes "" invalid by the document while the
    server accepts it: no ``oneOf`` with an empty-string branch may remain."""
    empty = {"type": "string", "maxLength": 0}
    assert [s for s in _schemas(schema) if empty in s.get("oneOf", [])] == []


def test_trimmed_required_text_refuses_blanks_in_the_document(schema):
    components = schema["components"]["schemas"]
    pattern = re.compile(components["TweetCreateInputRequest"]["properties"]["content"]["pattern"])
    assert pattern.search("hello") and pattern.search("  a ")
    assert not pattern.search("\r") and not pattern.search("   ") and not pattern.search("")
    assert not pattern.search("a\x00b")


def _operations(schema):
    return {
        operation["operationId"]: operation
        for operations in schema["paths"].values()
        for method, operation in operations.items()
        if method in _HTTP_METHODS
    }


def _links(schema):
    """``(source operationId, link name, link, source operation)`` of every link."""
    for source_id, operation in _operations(schema).items():
        for code, response in operation["responses"].items():
            for name, link in response.get("links", {}).items():
                assert code.startswith("2"), (source_id, code, name)
                yield source_id, name, link, operation


def _component(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _pointer_exists(schema, node, pointer):
    """Whether the JSON pointer ``/data/id`` names a property of the (enveloped) schema."""
    for part in pointer.strip("/").split("/"):
        node = _component(schema, node)
        if part not in node.get("properties", {}):
            return False
        node = node["properties"][part]
    return True


def _expressions(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _expressions(item)
    elif isinstance(value, str):
        yield from re.findall(r"\$(?:response|request)\.[^\s{}]+", value)


def test_the_main_chains_are_declared_as_links(schema):
    declared = {(source, link["operationId"]) for source, _, link, _ in _links(schema)}
    chains = {
        ("user_register_post", "user_login_post"),
        ("user_login_post", "user_current_user_details_get"),
        ("videos_post", "videos_by_video_id_get"),
        ("videos_post", "videos_by_video_id_patch"),
        ("videos_post", "videos_by_video_id_delete"),
        ("videos_post", "comments_by_video_id_post"),
        ("videos_post", "likes_toggle_v_by_video_id_post"),
        ("videos_post", "playlist_by_playlist_id_by_video_id_post"),
        ("comments_by_video_id_post", "comments_by_video_id_get"),
        ("comments_by_video_id_post", "comments_c_by_comment_id_patch"),
        ("comments_by_video_id_post", "comments_c_by_comment_id_delete"),
        ("comments_by_video_id_post", "comments_c_by_comment_id_replies_get"),
        ("comments_by_video_id_post", "comments_c_by_comment_id_pin_patch"),
        ("comments_by_video_id_post", "comments_c_by_comment_id_heart_patch"),
        ("tweets_post", "tweets_user_by_user_id_get"),
        ("tweets_post", "tweets_by_tweet_id_patch"),
        ("tweets_post", "tweets_by_tweet_id_delete"),
        ("uploads_post", "uploads_by_upload_id_get"),
        ("uploads_post", "uploads_by_upload_id_put"),
        ("uploads_post", "uploads_by_upload_id_delete"),
        ("playlist_post", "playlist_by_playlist_id_get"),
        ("playlist_post", "playlist_by_playlist_id_patch"),
        ("playlist_post", "playlist_by_playlist_id_delete"),
    }
    assert chains - declared == set()


def test_links_point_at_existing_operations_parameters_and_fields(schema):
    operations = _operations(schema)
    links = list(_links(schema))
    assert len(links) > 20
    for source_id, name, link, source in links:
        where = f"{source_id}.{name}"
        target = operations.get(link["operationId"])
        assert target is not None, where
        declared = {(p["in"], p["name"]) for p in target.get("parameters", [])}
        for key in link.get("parameters", {}):
            location, _, parameter = key.rpartition(".")
            if key == "header.Authorization":
                # A Bearer token: declared as the target's security, not as a parameter.
                assert {"jwtAuth": []} in target["security"], where
            else:
                assert (location or "path", parameter) in declared, (where, key)
        # Every path parameter of the target comes from the link, except the other half of a
        # playlist entry: the playlist to add a new video to, or the video to add to a new one.
        path = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
        open_ = path - {key.rpartition(".")[2] for key in link.get("parameters", {})}
        if link["operationId"] == "playlist_by_playlist_id_by_video_id_post":
            assert len(open_) == 1, where
        else:
            assert open_ == set(), where
        body_fields = set()
        for media in target.get("requestBody", {}).get("content", {}).values():
            body_fields |= set(_component(schema, media["schema"]).get("properties", {}))
        assert set(link.get("requestBody", {})) <= body_fields, where
        # Each expression reads something the source sends or answers.
        success = min(code for code in source["responses"] if code.startswith("2"))
        answer = source["responses"][success]["content"]["application/json"]["schema"]
        for expression in _expressions(
            {**link.get("parameters", {}), **link.get("requestBody", {})}
        ):
            if expression.startswith("$response.body#"):
                assert _pointer_exists(schema, answer, expression.split("#", 1)[1]), (
                    where,
                    expression,
                )
            elif expression.startswith("$request.path."):
                assert ("path", expression.rsplit(".", 1)[1]) in {
                    (p["in"], p["name"]) for p in source.get("parameters", [])
                }, (where, expression)
            elif expression.startswith("$request.body#"):
                media = next(iter(source["requestBody"]["content"].values()))
                assert _pointer_exists(schema, media["schema"], expression.split("#", 1)[1]), (
                    where,
                    expression,
                )
            else:
                raise AssertionError(f"{where}: unexpected expression {expression}")


def test_a_link_to_an_unknown_operation_or_parameter_is_a_generator_warning(monkeypatch, capsys):
    monkeypatch.setattr(
        api_schema,
        "OPERATION_LINKS",
        {
            "tweets_post": {
                "Gone": api_schema._link("tweets_by_tweet_id_get", "No such route."),
                "Typo": api_schema._link("tweets_by_tweet_id_patch", "Typo.", tweetId="x"),
                "Body": api_schema._link("user_login_post", "Body.", body={"nope": "x"}),
            },
            "no_such_source": {},
        },
    )
    GENERATOR_STATS.reset()
    SchemaGenerator().get_schema(public=True)
    GENERATOR_STATS.reset()
    text = capsys.readouterr().err
    assert "no operation 'tweets_by_tweet_id_get'" in text
    assert "tweets_by_tweet_id_patch has no parameter 'tweetId'" in text
    assert "user_login_post has no body field 'nope'" in text
    assert "'no_such_source' is not an operationId" in text
