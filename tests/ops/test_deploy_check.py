"""Production configuration: `check --deploy` passes with the documented environment, and
malformed values stop start-up with a message naming the variable."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
OPERATIONS_DOC = REPO / "docs" / "operations.md"


def documented_production_environment():
    """The ``env`` block of docs/operations.md, as a dict (the doc and this test cannot drift)."""
    text = OPERATIONS_DOC.read_text()
    block = re.search(r"```env\n(.*?)```", text, re.DOTALL)
    assert block, "docs/operations.md has no ```env block"
    variables = {}
    for line in block.group(1).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        variables[name] = value
    return variables


def run_manage(tmp_path, environment, *args):
    # A clean environment: nothing from the test run (DATABASE_URL, DEBUG...) leaks in.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "FILE_UPLOAD_TEMP_DIR": str(tmp_path / "uploads"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        **environment,
    }
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def printed_settings(tmp_path, environment, *names):
    """The settings ``names`` as a process started with ``environment`` prints them."""
    values = ", ".join(f"settings.{name}" for name in names)
    code = f"from django.conf import settings; print({values})"
    result = run_manage(tmp_path, environment, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def production_environment(tmp_path):
    environment = documented_production_environment()
    # The doc leaves the key empty on purpose (start-up refuses an empty one); an operator
    # generates one as the doc says.
    assert environment["SECRET_KEY"] == ""
    environment["SECRET_KEY"] = secrets.token_urlsafe(64)
    environment["FILE_UPLOAD_TEMP_DIR"] = str(tmp_path / "uploads")
    environment["MEDIA_ROOT"] = str(tmp_path / "media")
    return environment


def test_the_documented_environment_is_a_production_one():
    environment = documented_production_environment()
    assert environment["DEBUG"] == "0"
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["REDIS_URL"].startswith("redis://")
    assert environment["BEHIND_TLS_PROXY"] == "1"
    assert environment["TRUSTED_PROXY_COUNT"] == "1"
    assert "*" not in environment["CORS_ALLOWED_ORIGINS"]
    assert environment["CORS_ALLOWED_ORIGINS"].startswith("https://")


def test_check_deploy_passes_with_the_documented_production_environment(tmp_path):
    result = run_manage(
        tmp_path, production_environment(tmp_path), "check", "--deploy", "--fail-level", "WARNING"
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output


def test_check_deploy_warns_about_a_development_environment(tmp_path):
    """The check is not a rubber stamp: the local-run defaults fail it."""
    result = run_manage(
        tmp_path,
        {"DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode != 0
    for warning in (
        "security.W018",
        "security.W004",
        "security.W008",
        "viztube.W001",
        "viztube.W002",
    ):
        assert warning in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "Environment variable DEBUG: expected 1/0/true/false, got 'maybe'"),
        (
            "ACCESS_TOKEN_MINUTES",
            "abc",
            "Environment variable ACCESS_TOKEN_MINUTES: expected a positive integer, got 'abc'",
        ),
        ("REFRESH_TOKEN_DAYS", "0", "Environment variable REFRESH_TOKEN_DAYS"),
        ("CORS_ALLOWED_ORIGINS", "*", "Environment variable CORS_ALLOWED_ORIGINS: '*' is refused"),
        (
            "AUTH_COOKIE_SAMESITE",
            "Loose",
            "Environment variable AUTH_COOKIE_SAMESITE: expected Strict, Lax or None, got 'Loose'",
        ),
        ("SECRET_KEY", "short", "Environment variable SECRET_KEY: must be at least 32 bytes"),
        ("DATABASE_URL", "nosuchdb://x", "Environment variable DATABASE_URL"),
        ("CLOUDINARY_URL", "https://key:secret@cloud", "Environment variable CLOUDINARY_URL"),
        ("VIDEO_MAX_UPLOAD_MB", "-5", "Environment variable VIDEO_MAX_UPLOAD_MB"),
        ("SINGLE_UPLOAD_MAX_MB", "0", "Environment variable SINGLE_UPLOAD_MAX_MB"),
        ("UPLOAD_SESSIONS_MAX", "five", "Environment variable UPLOAD_SESSIONS_MAX"),
        ("UPLOAD_SESSION_HOURS", "1.5", "Environment variable UPLOAD_SESSION_HOURS"),
        ("TRUSTED_PROXY_COUNT", "one", "Environment variable TRUSTED_PROXY_COUNT"),
        ("VIDEO_LIST_CACHE_SECONDS", "-1", "Environment variable VIDEO_LIST_CACHE_SECONDS"),
        ("SECURE_HSTS_SECONDS", "1y", "Environment variable SECURE_HSTS_SECONDS"),
        (
            "CELERY_BROKER_URL",
            "amqp://guest@rabbit//",
            "Environment variable CELERY_BROKER_URL: expected redis://",
        ),
        (
            "CELERY_BROKER_URL",
            "redis://redis.internal:6379/0",
            "Environment variable CELERY_BROKER_URL: the task queue needs a Redis database of its own",
        ),
        (
            "CELERY_TASK_TIME_LIMIT_SECONDS",
            "300",
            "Environment variable CELERY_TASK_TIME_LIMIT_SECONDS: must be more than "
            "CELERY_TASK_SOFT_TIME_LIMIT_SECONDS (300)",
        ),
    ],
)
def test_a_malformed_variable_stops_start_up_naming_it(tmp_path, name, value, message):
    environment = production_environment(tmp_path)
    environment[name] = value

    result = run_manage(tmp_path, environment, "check")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    assert "System check identified" not in result.stdout


def test_the_same_environment_without_the_bad_value_starts(tmp_path):
    """Control for the test above: it is the bad value that stops start-up, nothing else."""
    result = run_manage(tmp_path, production_environment(tmp_path), "check")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_missing_secret_key_is_refused_for_serving_but_not_for_tooling(tmp_path):
    environment = production_environment(tmp_path)
    environment["SECRET_KEY"] = ""
    message = "Environment variable SECRET_KEY: required when DEBUG is off"

    deploy = run_manage(tmp_path, environment, "check", "--deploy")
    assert deploy.returncode != 0
    assert message in deploy.stderr + deploy.stdout

    serving = subprocess.run(
        [sys.executable, "-c", "import viztube.wsgi"],
        cwd=REPO,
        env={**environment, "PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert serving.returncode != 0
    assert message in serving.stderr

    tooling = run_manage(tmp_path, environment, "makemigrations", "--check", "--dry-run")
    assert tooling.returncode == 0, tooling.stderr


@pytest.mark.parametrize(
    ("redis_url", "expected"),
    [("redis://127.0.0.1:6379/0", "300 10"), (None, "0 0")],
)
def test_the_caches_are_on_with_redis_and_off_without(tmp_path, redis_url, expected):
    """A per-process cache could not retire the user copies and list pages other workers hold."""
    environment = production_environment(tmp_path)
    environment.pop("USER_CACHE_SECONDS", None)
    environment.pop("VIDEO_LIST_CACHE_SECONDS", None)
    if redis_url is None:
        environment.pop("REDIS_URL")
    else:
        environment["REDIS_URL"] = redis_url

    printed = printed_settings(
        tmp_path, environment, "USER_CACHE_SECONDS", "VIDEO_LIST_CACHE_SECONDS"
    )

    assert printed == expected


def test_turning_a_cache_on_without_redis_stops_start_up(tmp_path):
    environment = production_environment(tmp_path)
    environment.pop("REDIS_URL")
    environment["USER_CACHE_SECONDS"] = "300"

    result = run_manage(tmp_path, environment, "check")

    assert result.returncode != 0
    assert "Environment variable USER_CACHE_SECONDS: needs REDIS_URL" in result.stderr


@pytest.mark.parametrize(
    ("redis_url", "broker_url", "expected"),
    [
        # The queue gets a database of its own on the cache's server.
        ("redis://redis.internal:6379/0", None, "redis://redis.internal:6379/1 False"),
        (
            "redis://:secret@redis.internal:6380",
            None,
            "redis://:secret@redis.internal:6380/1 False",
        ),
        ("redis://redis.internal:6379/0", "redis://queue.internal:6379/0", None),
        # No broker at all: tasks run inline, in the in-memory transport's producer.
        (None, None, "memory://localhost/ True"),
    ],
)
def test_the_broker_comes_from_redis_url_unless_given(tmp_path, redis_url, broker_url, expected):
    environment = production_environment(tmp_path)
    environment.pop("REDIS_URL")
    environment.pop("USER_CACHE_SECONDS", None)
    environment.pop("VIDEO_LIST_CACHE_SECONDS", None)
    if redis_url:
        environment["REDIS_URL"] = redis_url
    if broker_url:
        environment["CELERY_BROKER_URL"] = broker_url

    printed = printed_settings(
        tmp_path, environment, "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER"
    )

    assert printed == (expected or f"{broker_url} False")


@pytest.mark.parametrize(
    ("redis_url", "layer_url", "expected"),
    [
        # Redis pub/sub on the cache's server, its channels named after database 3.
        (
            "redis://redis.internal:6379/0",
            None,
            "channels_redis.pubsub.RedisPubSubChannelLayer redis://redis.internal:6379/3 viztube3",
        ),
        (
            "redis://redis.internal:6379/0",
            "redis://live.internal:6379/5",
            "channels_redis.pubsub.RedisPubSubChannelLayer redis://live.internal:6379/5 viztube5",
        ),
        # No Redis: the in-memory layer (one process: `make run`).
        (None, None, "channels.layers.InMemoryChannelLayer - -"),
    ],
)
def test_the_channel_layer_comes_from_redis_url_unless_given(
    tmp_path, redis_url, layer_url, expected
):
    environment = production_environment(tmp_path)
    environment.pop("REDIS_URL")
    if redis_url:
        environment["REDIS_URL"] = redis_url
    if layer_url:
        environment["CHANNEL_LAYER_URL"] = layer_url
    code = (
        "from django.conf import settings; layer = settings.CHANNEL_LAYERS['default']; "
        "config = layer.get('CONFIG', {'hosts': [{'address': '-'}], 'prefix': '-'}); "
        "print(layer['BACKEND'], config['hosts'][0]['address'], config['prefix'])"
    )

    result = run_manage(tmp_path, environment, "shell", "-c", code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


def test_a_channel_layer_that_is_not_redis_stops_start_up(tmp_path):
    environment = {**production_environment(tmp_path), "CHANNEL_LAYER_URL": "amqp://x/1"}
    result = run_manage(tmp_path, environment, "check")
    assert result.returncode != 0
    assert "Environment variable CHANNEL_LAYER_URL: expected redis://" in result.stderr


def test_the_csrf_check_stands_in_for_the_silenced_django_one(settings):
    from viztube.checks import csrf_middleware_check

    assert csrf_middleware_check(None) == []
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "Csrf" not in m]
    assert [error.id for error in csrf_middleware_check(None)] == ["viztube.E002"]
