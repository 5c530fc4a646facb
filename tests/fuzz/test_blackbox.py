"""Schemathesis against a live gunicorn: the black-box fuzz stage of the test command.

What runs: a PostgreSQL database of its own beside the test database (``<name>_blackbox``:
created, migrated, seeded with ``seed_demo --scale 0.001`` and dropped after), gunicorn with
``gunicorn.conf.py`` on a free 127.0.0.1 port with production settings (``DEBUG=0``, plain HTTP,
no Redis), and the schemathesis CLI in a subprocess, reading the document the server serves at
``/api/schema/``. Three runs: anonymously, as a peer (another user's Bearer token) and as the
owner of the data set (``bigchannel``), in that order, so that the owner's deletes come last.
Nothing but 127.0.0.1 is addressed (no redirect is followed, no proxy is used).

Each run: every check (``--checks all``: no 5xx, statuses, content types, headers and bodies as
documented, schema-invalid input refused, schema-valid input accepted, unexpected methods,
ignored auth, object-level authorization, use after free, resource availability), positive and
negative data (``--mode all``), every phase (examples, coverage, fuzzing, and stateful, which
follows the document's links), a fixed seed. Where a check failed because the document did not
say what the server enforces, the document or the server was fixed, never the check. The only
exceptions are the rules JSON Schema cannot express, each in ``NOT_IN_JSON_SCHEMA`` with its
reason; a rule whose refusal is already an accepted status needs no entry (wrong credentials
are a 401, a peer editing the owner's video a 403 or 404).

Decisions:
- Path parameters: half of the generated ids are real ones of the data set (schemathesis
  dictionaries), else nearly everything would be a 404 on a random UUID; negative cases keep
  their invalid path. The channel to subscribe to is never a caller (a self-subscription is a
  400 by a rule the schema cannot state). The deletes get ids of their own ("doomed" objects),
  so that what the other operations address survives until the end.
- Rate limits and the login lockout are raised for the run (no false 429), access tokens live an
  hour. Without Redis each worker counts its own throttles, which is exact enough at these limits.
- Schemathesis must not sign up on its own through the register → login links: who calls is the
  stage's choice (the anonymous run stays anonymous).
- Multipart uploads decode an image or probe a video on every case, so they get fewer cases.
- One schemathesis worker (its default): with two, a run once ended in a SystemError inside
  Hypothesis ("AST constructor recursion depth mismatch", CPython 3.11's parser used from two
  threads), and the order of the operations, so the server's state, would vary between runs.
- Budget: about 2,000 cases a run; the whole stage took 1½ minutes on an idle 2-core machine and
  2½ under other sessions' load (measured), each run bounded by SCHEMATHESIS_TIMEOUT. The server, the database and the runs are stopped and dropped
  on every way out, a SIGTERM included; a database left by a killed run is dropped at the start.
- It replaced an in-process fuzz (schemathesis through Django's WSGI handler, each case in a
  rolled-back savepoint): the live server checks what that could not (gunicorn, the middleware
  order, real multipart encoding as clients send it, state that builds up across requests).
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the interpreter's virtualenv (make test PYTHON=... too)
HOST = "127.0.0.1"
SECRET_KEY = "test-only-secret-key-not-for-production-0123456789abcdef"
DEMO_PASSWORD = "demo-password-123"  # seed_demo's documented password of every demo user
OWNER, PEER = "bigchannel", "vera.zhang2"  # seed_demo's big channel and one of its users
CALLERS = ["anonymous", "peer", "owner"]  # in this order: the owner's deletes come last

SEED = 20261125
MAX_EXAMPLES = 10
UPLOAD_EXAMPLES = 3
STATEFUL_EXAMPLES = 30
SCHEMATHESIS_TIMEOUT = 300

# schemathesis 4.32.5's defaults of the two checks below, to which the allow-list adds.
DEFAULT_STATUSES = {
    "positive_data_acceptance": ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"],
    "negative_data_rejection": [
        "400",
        "401",
        "403",
        "404",
        "405",
        "406",
        "409",
        "415",
        "422",
        "428",
        "429",
        "5xx",
    ],
}

# THE allow-list: the rules JSON Schema cannot express, where a request the document calls valid
# may still be refused (positive_data_acceptance) or an invalid one is refused with a status the
# check does not count as a refusal (negative_data_rejection). Everything else is still checked.
# {(check, operationId, or None for every operation): (statuses it also expects, the rule)}
NOT_IN_JSON_SCHEMA = {
    ("negative_data_rejection", None): (
        ["414"],
        "the whole URI is at most 4096 bytes: a query string over it is refused (414) before its "
        "values are read, and JSON Schema bounds each parameter, not their sum",
    ),
    ("positive_data_acceptance", "user_register_post"): (
        ["422"],
        "the avatar and cover image must be real images; the password must pass Django's "
        "password validators (not too common, not all digits, not like the username)",
    ),
    ("positive_data_acceptance", "user_change_password_post"): (
        ["400", "422"],
        "the old password must be right (400 Invalid old password, as the original API "
        "answered); the new one must pass the password validators",
    ),
    ("positive_data_acceptance", "user_update_avatar_patch"): (
        ["422"],
        "the file must be a real image",
    ),
    ("positive_data_acceptance", "user_update_cover_image_patch"): (
        ["422"],
        "the file must be a real image",
    ),
    ("positive_data_acceptance", "videos_post"): (
        ["422"],
        "the video must be a real video and the thumbnail a real image",
    ),
    ("positive_data_acceptance", "videos_by_video_id_patch"): (
        ["422"],
        "a new thumbnail must be a real image",
    ),
    ("positive_data_acceptance", "comments_by_video_id_post"): (
        ["422"],
        "a parentId must name a comment of the video commented on",
    ),
    ("positive_data_acceptance", "comments_c_by_comment_id_pin_patch"): (
        ["422"],
        "only a top-level comment can be pinned, not a reply",
    ),
    ("positive_data_acceptance", "feed_get"): (
        ["400"],
        "a cursor must be a nextCursor this server gave the caller for this list (signed)",
    ),
    ("positive_data_acceptance", "notifications_get"): (
        ["400"],
        "a cursor must be a nextCursor this server gave the caller for this list (signed)",
    ),
    ("positive_data_acceptance", "uploads_post"): (
        ["413"],
        "size must be at most VIDEO_MAX_UPLOAD_MB MiB, a setting: a larger file is a 413 (too "
        "large), not a field error",
    ),
    ("positive_data_acceptance", "uploads_by_upload_id_put"): (
        ["400"],
        "a chunk's Content-Range must give the upload's own size and end within it, and the body "
        "must be as long as the range says: rules between a header, the body and the stored "
        "upload",
    ),
    ("negative_data_rejection", "playlist_post"): (
        ["201"],
        "a name or description is trimmed before its length is checked: a value over maxLength "
        "only by surrounding blanks is accepted",
    ),
    ("negative_data_rejection", "playlist_by_playlist_id_patch"): (
        ["200"],
        "a name or description is trimmed before its length is checked (as on create)",
    ),
}
# Multipart uploads: every case decodes an image or probes a video, so fewer of them.
UPLOADS = [
    "user_register_post",
    "user_update_avatar_patch",
    "user_update_cover_image_patch",
    "videos_post",
    "videos_by_video_id_patch",
]
# Deletes address "doomed" objects: the others stay for the rest of the run.
DELETES = [
    "videos_by_video_id_delete",
    "comments_c_by_comment_id_delete",
    "tweets_by_tweet_id_delete",
    "playlist_by_playlist_id_delete",
]

# No proxy from the environment: every request of this module goes to 127.0.0.1 itself.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- the server and its database, stopped and dropped on every way out --------------------------


def _free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _server_and_name(database_url):
    """``(server URL, database name)`` of the stage's database beside the test database."""
    parts = urllib.parse.urlsplit(database_url)
    name = parts.path.lstrip("/") or "viztube"
    return parts._replace(path="").geturl(), f"{name}_blackbox"


def _admin(server, statement):
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


def _environment(database_url, folder):
    """Production settings (DEBUG off) from a clean environment: nothing of the test run leaks
    in (a proxy, a Redis, Cloudinary), and what a local ``.env`` might set is overridden."""
    env = {
        name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=database_url,
        REDIS_URL="",
        CLOUDINARY_URL="",
        ALLOWED_HOSTS=HOST,
        # Plain HTTP on the loopback: no TLS proxy in front.
        SECURE_SSL_REDIRECT="0",
        MEDIA_ROOT=str(folder / "media"),
        FILE_UPLOAD_TEMP_DIR=str(folder / "uploads"),
        ACCESS_TOKEN_MINUTES="60",
        LOGIN_FAILURE_LIMIT="1000000",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
        **{
            f"RATE_LIMIT_{scope}": "1000000/minute"
            for scope in ("ANON", "USER", "LOGIN", "REGISTER", "UPLOAD", "COMMENT", "TOGGLE")
        },
    )
    return env


def _manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stderr[-3000:]}"
    return result.stdout


def _request(port, method, path, *, token=None, body=None):
    """``(status, parsed body)`` of one request to the stage's server; ``(None, None)`` when
    nothing answers."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers=headers,
        method=method,
    )
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None
    except OSError:
        return None, None


@contextlib.contextmanager
def _database(database_url):
    server, name = _server_and_name(database_url)
    # A run killed before its clean-up leaves its database behind: start from nothing.
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def _gunicorn(env, log_path):
    port = _free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "viztube.wsgi:application", "--config", "gunicorn.conf.py"],
            cwd=REPO,
            env={**env, "GUNICORN_BIND": f"{HOST}:{port}"},
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: stopping it touches nothing else.
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while _request(port, "GET", "/api/v1/healthcheck")[0] != 200:
                assert process.poll() is None, f"gunicorn exited:\n{log_path.read_text()[-3000:]}"
                assert time.monotonic() < deadline, f"gunicorn silent:\n{log_path.read_text()}"
                time.sleep(0.2)
            yield port
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@contextlib.contextmanager
def _sigterm_stops_the_session():
    """A SIGTERM becomes a KeyboardInterrupt, so that pytest tears the stage down (stops the
    server, drops the database) and stops, instead of dying with them left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- the data set ----------------------------------------------------------------------------------


def _ids(database_url, sql, *params):
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return [row[0] for row in conn.execute(sql, params).fetchall()]


def _world(database_url, port):
    """Tokens of the owner and the peer (logged in over HTTP) and real ids for the fuzzer:
    ``durable`` ones for every operation, ``doomed`` ones (others of the same kinds) for the
    deletes."""
    tokens = {}
    for username in (OWNER, PEER):
        status, answer = _request(
            port,
            "POST",
            "/api/v1/user/login",
            body={"username": username, "password": DEMO_PASSWORD},
        )
        assert status == 200, f"login of {username}: {status}"
        tokens[username] = answer["data"]["accessToken"]
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        users = dict(conn.execute("SELECT username, id::text FROM accounts_user ORDER BY username"))
    owner, peer = users.pop(OWNER), users.pop(PEER)
    other_name, other = next(iter(users.items()))

    def owned(table, column, user, condition="TRUE"):
        return _ids(
            database_url,
            f"SELECT id::text FROM {table} WHERE {column} = %s AND {condition} ORDER BY id",  # noqa: S608
            user,
        )

    videos = owned("videos_video", "owner_id", owner, "visibility = 'public'")
    hidden = owned("videos_video", "owner_id", owner, "visibility = 'private'")
    comments = owned("social_comment", "author_id", owner)
    tweets = owned("social_tweet", "author_id", owner)
    playlists = owned("playlists_playlist", "owner_id", owner)
    assert len(videos) >= 6 and len(hidden) >= 2 and len(comments) >= 6 and len(tweets) >= 2
    # The owner has one playlist in the data set: a second one, to be deleted, over HTTP.
    status, answer = _request(
        port, "POST", "/api/v1/playlist", token=tokens[OWNER], body={"name": "Doomed"}
    )
    assert status == 201 and playlists, status
    durable = {
        "video_id": [*videos[:3], hidden[0], *owned("videos_video", "owner_id", peer)[:2]],
        "comment_id": [*comments[:3], *owned("social_comment", "author_id", peer)[:2]],
        "tweet_id": [tweets[0], *owned("social_tweet", "author_id", peer)[:2]],
        "playlist_id": [playlists[0], *owned("playlists_playlist", "owner_id", peer)[:1]],
        "user_id": [owner, peer, other],
        # Never a caller: a self-subscription is a 400 by a rule the schema cannot state.
        "channel_id": list(users.values())[:3],
        "subscriber_id": [owner, peer, other],
        "username": [OWNER, PEER, other_name],
    }
    doomed = {
        "video_id": [*videos[3:6], *hidden[1:]],
        "comment_id": comments[3:6],
        "tweet_id": tweets[1:],
        "playlist_id": [answer["data"]["id"]],
    }
    return tokens, durable, doomed


# --- schemathesis -----------------------------------------------------------------------------------


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml_value, value)) + "]"
    pairs = (f"{json.dumps(key)} = {_toml_value(item)}" for key, item in value.items())
    return "{ " + ", ".join(pairs) + " }"


def to_toml(config):
    """The config as TOML: top-level keys, every table inline (the stdlib only reads TOML)."""
    text = "".join(f"{json.dumps(key)} = {_toml_value(value)}\n" for key, value in config.items())
    assert tomllib.loads(text) == config
    return text


def _bindings(ids, dictionary):
    """Half of the values of each path parameter from the dictionary of real ids."""
    return {
        f"path.{name}": {"dictionary": f"{dictionary}_{name}", "probability": 0.5} for name in ids
    }


def schemathesis_config(*, token, durable, doomed):
    """The schemathesis.toml of one run (``token``: the caller's, or None for anonymous)."""

    def expected(check, statuses):
        return {check: {"expected-statuses": [*DEFAULT_STATUSES[check], *statuses]}}

    everywhere = {}
    operations = []
    for (check, operation_id), (statuses, _rule) in NOT_IN_JSON_SCHEMA.items():
        if operation_id is None:
            everywhere.update(expected(check, statuses))
        else:
            operations.append(
                {"include-operation-id": operation_id, "checks": expected(check, statuses)}
            )
    operations.append(
        {"include-operation-id": UPLOADS, "generation": {"max-examples": UPLOAD_EXAMPLES}}
    )
    operations.append({"include-operation-id": DELETES, "parameters": _bindings(doomed, "doomed")})
    config = {
        "seed": SEED,
        "request-timeout": 20,
        "max-redirects": 0,
        "auth": {"auto-signup": False},
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        "checks": everywhere,
        "phases": {"stateful": {"generation": {"max-examples": STATEFUL_EXAMPLES}}},
        "dictionaries": {
            f"{kind}_{name}": {"values": values}
            for kind, ids in (("durable", durable), ("doomed", doomed))
            for name, values in ids.items()
        },
        "parameters": _bindings(durable, "durable"),
        "operations": operations,
    }
    if token:
        config["headers"] = {"Authorization": f"Bearer {token}"}
    return config


def run_schemathesis(port, config, run_dir):
    """``(completed process, JUnit report path)`` of one schemathesis run against the stage."""
    run_dir.mkdir()
    config_path = run_dir / "schemathesis.toml"
    config_path.write_text(to_toml(config))
    junit = run_dir / "junit.xml"
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(config_path),
        "run",
        f"http://{HOST}:{port}/api/schema/",
        "--checks",
        "all",
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--report",
        "junit",
        "--report-junit-path",
        str(junit),
        "--no-color",
    ]
    result = subprocess.run(
        command,
        cwd=run_dir,
        # No proxy, no settings of the test run: PATH and a home for its caches only.
        env={name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ},
        capture_output=True,
        text=True,
        timeout=SCHEMATHESIS_TIMEOUT,
        check=False,
    )
    (run_dir / "output.txt").write_text(result.stdout + result.stderr)
    return result, junit


def _documented_operations(port):
    status, document = _request(port, "GET", "/api/schema/?format=json")
    assert status == 200, status
    return {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def _junit(junit):
    """``(names of the test cases, names of those that failed or errored)``."""
    if not junit.exists():
        return set(), {"(no JUnit report)"}
    cases = list(ET.parse(junit).getroot().iter("testcase"))  # noqa: S314 - written by our run
    failed = {
        case.get("name")
        for case in cases
        if case.find("failure") is not None or case.find("error") is not None
    }
    return {case.get("name") for case in cases}, failed


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    folder = tmp_path_factory.mktemp("blackbox")
    for sub in ("media", "uploads"):
        (folder / sub).mkdir()
    test_database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/viztube")
    with _sigterm_stops_the_session(), _database(test_database_url) as database_url:
        env = _environment(database_url, folder)
        _manage(env, "migrate", "--noinput")
        _manage(env, "seed_demo", "--scale", "0.001", "--no-progress")
        with _gunicorn(env, folder / "gunicorn.log") as port:
            tokens, durable, doomed = _world(database_url, port)
            yield {
                "port": port,
                "folder": folder,
                "tokens": {"anonymous": None, "peer": tokens[PEER], "owner": tokens[OWNER]},
                "durable": durable,
                "doomed": doomed,
                "operations": _documented_operations(port),
            }


@pytest.mark.parametrize("caller", CALLERS)
def test_schemathesis_finds_nothing(stage, caller):
    config = schemathesis_config(
        token=stage["tokens"][caller], durable=stage["durable"], doomed=stage["doomed"]
    )
    started = time.monotonic()
    result, junit = run_schemathesis(stage["port"], config, stage["folder"] / caller)
    print(f"schemathesis as {caller}: {time.monotonic() - started:.0f} s")

    tested, failed = _junit(junit)
    report = f"schemathesis as {caller}, exit {result.returncode}:\n{result.stdout[-20000:]}"
    assert result.returncode == 0, f"{report}\n{result.stderr[-3000:]}"
    assert failed == set(), report
    assert stage["operations"] - tested == set(), report
