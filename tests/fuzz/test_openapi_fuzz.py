"""Schemathesis against our own OpenAPI document, in-process.

Every operation of ``/api/schema/`` is fuzzed through Django's WSGI application (no server, no
network) twice: as the owner of a small realistic data set (Bearer token) and anonymously.
Generation is deterministic (fixed seed, ``derandomize``), so a failure replays identically.
Phases: coverage (boundary and malformed values, unexpected methods) and fuzzing; stateful is off.

Every built-in check schemathesis 4.32.5 enables by default runs on every case: no 5xx, status
codes / content types / headers / bodies as documented, schema-invalid input refused (4xx),
schema-valid input accepted, plus its auth and method probes. Where a check failed because the
document did not say what the API enforces, the document was fixed (``@api_doc`` parameters,
serializer validators), never the check; the only check tuning is ``positive_data_acceptance`` on
the few operations whose rules JSON Schema cannot express (see SEMANTIC_422).

Decisions:
- Each operation's cases share one data set, each case inside a savepoint rolled back after it:
  a DELETE or a password change does not starve the next case, and nothing leaks between cases.
- Half of the cases whose path is schema-valid address real objects (else everything would be a
  404 on a random UUID); negative cases keep their generated, invalid path.
- Rate limits are raised for the run (no false 429). The login lockout needs no change: its
  failed-attempt rows roll back with each case's savepoint.
- Budget: about 3,500 cases, 60-90 s on the shared 2-core machine (measured).
"""

import itertools
import json

import hypothesis
import pytest
import requests
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.core.parameters import ParameterLocation
from schemathesis.transport.requests import prepare_multipart_parts
from schemathesis.transport.wsgi import WSGI_TRANSPORT
from schemathesis.transport.wsgi import multipart_serializer as werkzeug_multipart

from tests.conftest import tokens_for
from tests.factories import (
    CommentFactory,
    PlaylistFactory,
    PlaylistVideoFactory,
    TweetFactory,
    UserFactory,
    VideoFactory,
    WatchHistoryFactory,
)

pytestmark = pytest.mark.slow

SEED = 20261125
MAX_EXAMPLES = 10
UPLOAD_EXAMPLES = 4

# Operations whose acceptance hangs on what JSON Schema cannot say: an image or a video that
# really decodes, a password that passes Django's validators and is not like the username,
# credentials that match. A schema-valid request may get a 422 there (their own tests cover the
# rules); everything else about them is still checked.
SEMANTIC_422 = [
    "user_register_post",
    "user_login_post",
    "user_update_avatar_patch",
    "user_update_cover_image_patch",
    "videos_post",
]
# Multipart uploads: every case decodes an image or probes a video, so fewer of them.
UPLOADS = [
    "user_register_post",
    "user_update_avatar_patch",
    "user_update_cover_image_patch",
    "videos_post",
    "videos_by_video_id_patch",
]
MULTIPART = "multipart/form-data"
DEFAULT_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        # Stateful sequences need links and a server of their own; every operation is fuzzed alone.
        "phases": {"stateful": {"enabled": False}},
        "operations": [
            {
                # A wrong old password is the original's 400 "Invalid old password".
                "include-operation-id": "user_change_password_post",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": [*DEFAULT_ACCEPTED, "400", "422"]
                    }
                },
            },
            {
                "include-operation-id": SEMANTIC_422,
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": [*DEFAULT_ACCEPTED, "422"]}
                },
            },
            {"include-operation-id": UPLOADS, "generation": {"max-examples": UPLOAD_EXAMPLES}},
        ],
    }
)

# `world` is built once per operation and shared by its cases on purpose: each case runs in a
# savepoint that is rolled back, so every case sees the same data.
FIXTURES_ARE_PER_OPERATION = hypothesis.settings(
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)


def _load_schema():
    """The document ``/api/schema/`` serves, generated without a request: collection time has no
    database (``schemathesis.pytest.from_fixture`` would, but it does not run under pytest 9)."""
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
    loaded = schemathesis.openapi.from_dict(document, config=CONFIG)
    loaded.app = get_wsgi_application()
    return loaded


schema = _load_schema()


@pytest.fixture
def _shared_test_connection():
    """Keep the test's transaction across WSGI requests: Django's handler closes a connection whose
    autocommit differs from the settings at request start/end (as the test client avoids too)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _multipart_as_clients_send_it(ctx, value):
    """Multipart bodies encoded by ``requests`` (as real clients do) instead of Werkzeug, whose
    encoder writes an empty field without the CRLF before the next boundary: Django then reads
    the field as absent, and a blank ``title`` would look accepted when it never arrived."""
    if not isinstance(value, dict):
        return werkzeug_multipart(ctx, value)
    files, data = prepare_multipart_parts(ctx, value)
    if not files and not data:
        return werkzeug_multipart(ctx, value)
    prepared = requests.PreparedRequest()
    prepared.prepare_headers(None)
    prepared.prepare_body(data, files)
    return {"data": prepared.body, "content_type": prepared.headers["Content-Type"]}


@pytest.fixture(scope="module", autouse=True)
def _client_like_multipart():
    WSGI_TRANSPORT.serializer(MULTIPART)(_multipart_as_clients_send_it)
    yield
    WSGI_TRANSPORT.serializer(MULTIPART)(werkzeug_multipart)


@pytest.fixture
def world(db, settings, _shared_test_connection):
    settings.RATE_LIMITS = {scope: "100000/m" for scope in settings.RATE_LIMITS}
    owner = UserFactory(username="fuzzowner")
    other = UserFactory(username="fuzzother")
    videos = VideoFactory.create_batch(3, owner=owner)
    hidden = VideoFactory(owner=owner, is_published=False)
    foreign = VideoFactory(owner=other)
    comment = CommentFactory(video=videos[0], author=owner)
    CommentFactory(video=videos[0], author=other)
    tweet = TweetFactory(author=owner)
    playlist = PlaylistFactory(owner=owner)
    for video in videos[:2]:
        PlaylistVideoFactory(playlist=playlist, video=video)
    WatchHistoryFactory(user=owner, video=foreign)
    ids = {
        "video_id": [videos[0].id, hidden.id, foreign.id, videos[2].id],
        "comment_id": [comment.id],
        "tweet_id": [tweet.id],
        "playlist_id": [playlist.id],
        "user_id": [owner.id, other.id],
        # Not the owner: a self-subscription is a 400 by a rule the schema cannot state.
        "channel_id": [other.id],
        "subscriber_id": [owner.id],
        "username": [owner.username, other.username],
    }
    access, _ = tokens_for(owner)
    return {"ids": ids, "token": access, "turn": itertools.count()}


def _point_at_real_objects(case, world):
    """Every other case addresses objects that exist (else nearly everything is a 404), unless the
    path itself is the deliberately invalid part of a negative case."""
    if not case.path_parameters or case.meta.is_negative_at(ParameterLocation.PATH):
        return
    turn = next(world["turn"])
    if turn % 2:
        return
    for name in case.path_parameters:
        choices = world["ids"].get(name)
        if choices:
            case.path_parameters[name] = str(choices[(turn // 2) % len(choices)])


def _run(case, world, headers):
    _point_at_real_objects(case, world)
    # Each case starts from the same data: a DELETE must not starve the cases after it.
    with transaction.atomic():
        case.call_and_validate(headers=headers)
        transaction.set_rollback(True)


@schema.parametrize()
@FIXTURES_ARE_PER_OPERATION
def test_fuzz_as_owner(case, world):
    _run(case, world, {"Authorization": f"Bearer {world['token']}"})


@schema.parametrize()
@FIXTURES_ARE_PER_OPERATION
def test_fuzz_anonymous(case, world):
    _run(case, world, {})
