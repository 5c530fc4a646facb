"""Fixtures shared by every test package: clients, users, media files, isolation of media folders."""

import io
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from PIL import Image
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import user_cache
from tests.factories import UserFactory
from viztube.api import page_cache as list_cache

MEDIA_FIXTURES = Path(__file__).parent / "media"

# The fake Cloudinary HTTP server and its `fake_cloudinary` fixture.
pytest_plugins = ["tests.fakes.cloudinary"]


def pytest_sessionstart(session):
    """Stop at once, with one clear line, when the suite would not run against PostgreSQL."""
    database = django_settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        pytest.exit(
            "The test suite runs against PostgreSQL only: set DATABASE_URL=postgres://... "
            "(make test does this for you).",
            returncode=3,
        )
    try:
        psycopg.connect(
            host=database["HOST"] or "127.0.0.1",
            port=database["PORT"] or 5432,
            user=database["USER"],
            password=database["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        pytest.exit(
            f"PostgreSQL is not reachable at {database['HOST']}:{database['PORT']} ({first_line}); "
            "start it or set DATABASE_URL.",
            returncode=3,
        )


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Each test gets its own media folder and upload temp folder (so leftovers can be asserted)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings, request):
    """Argon2 costs ~100 ms a hash; tests that are about hashing mark themselves `real_hasher`."""
    if "real_hasher" not in request.keywords:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def pytest_configure(config):
    config.addinivalue_line("markers", "real_hasher: use the production password hashers")
    config.addinivalue_line(
        "markers",
        "slow: fuzzing, a subprocess or server, or a race between threads; "
        'make test-fast skips them (-m "not slow")',
    )
    # Production settings otherwise (DEBUG off), but plain HTTP and no collectstatic manifest.
    # Through override_settings, so that storages already built are reset by its signal.
    override_settings(
        SECURE_SSL_REDIRECT=False,
        STORAGES={
            **django_settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        WHITENOISE_AUTOREFRESH=True,
        # The caches as production runs them (with Redis). The tests run in one process, where
        # the per-process cache they use without REDIS_URL is exact.
        USER_CACHE_SECONDS=300,
        VIDEO_LIST_CACHE_SECONDS=10,
    ).enable()


@pytest.fixture
def redis_round_trips(monkeypatch):
    """What is sent to Redis, one entry per round trip (a command, or a whole pipeline)."""
    from redis.connection import AbstractConnection

    sent = []
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


@pytest.fixture
def celery_broker():
    """Switch this process's Celery app from inline tasks to a broker: ``celery_broker(url)``;
    ``celery_broker.restore()`` switches back.

    The suite has no broker (tasks run inline, as in ``make run``); tests that need one use
    Redis databases 8 and 9, or a closed port for a broker that is down. Restored after.
    """
    from viztube.celery import app

    saved = {name: app.conf[name] for name in ("broker_url", "task_always_eager")}

    def forget_connections():
        # The app's connection and producer pools were made for the previous broker; Celery
        # forgets them the same way in a forked child (kombu keeps each broker's pools, open,
        # for the next time that broker is used).
        app._after_fork()

    def use(url):
        forget_connections()
        app.conf.update(broker_url=url, task_always_eager=False)
        return app

    def restore():
        """Back to inline tasks, within the test."""
        forget_connections()
        app.conf.update(saved)

    use.restore = restore
    yield use
    restore()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True)


def tokens_for(user):
    refresh = RefreshToken.for_user(user)
    return str(refresh.access_token), str(refresh)


def bearer_client(user):
    """An APIClient authenticated as ``user`` with a Bearer access token."""
    client = APIClient()
    access, _ = tokens_for(user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def auth_client(user):
    return bearer_client(user)


@pytest.fixture
def other_client(other_user):
    return bearer_client(other_user)


@pytest.fixture
def admin_client(db):
    """A signed-in superuser of the Django admin (pytest-django's own, with our user model)."""
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def staff_client(staff_user):
    return bearer_client(staff_user)


def image_bytes(fmt="PNG", size=(8, 8), color=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def image_upload(name="image.png", fmt="PNG", size=(8, 8)):
    content_types = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
    return SimpleUploadedFile(
        name, image_bytes(fmt, size), content_type=content_types.get(fmt, "image/png")
    )


def media_bytes(name):
    """Bytes of a real, tiny media file under tests/media (sample.mp4, sample.webm, ...)."""
    return (MEDIA_FIXTURES / name).read_bytes()


def video_upload(name="sample.mp4", content_type="video/mp4"):
    return SimpleUploadedFile(name, media_bytes(name), content_type=content_type)


def file_deletions(on_commit_callbacks):
    """The callbacks a request left for after its commit, minus the cache retirements that any
    change to a video or user schedules (viztube/api/page_cache.py, accounts/user_cache.py)."""
    return [
        c
        for c in on_commit_callbacks
        if c is not list_cache.retire_pages
        and getattr(c, "func", None) is not user_cache.retire_copies
    ]


def files_under(folder):
    """Every file below ``folder`` (relative paths), to assert what storage holds."""
    root = Path(folder)
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
