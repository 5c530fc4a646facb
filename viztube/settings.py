"""VizTube settings: one file, every integration switched on by an environment variable.

Values are parsed strictly: a malformed variable stops start-up with a message naming it
(see ``_fail``), instead of silently running with a default.
"""

import re
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from corsheaders.defaults import default_headers
from django.core.exceptions import ImproperlyConfigured

from viztube.api.rates import parse_rate

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _fail(name, problem):
    raise ImproperlyConfigured(f"Environment variable {name}: {problem}")


def _bool(name, default):
    raw = env.str(name, default="1" if default else "0").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    return _fail(name, f"expected 1/0/true/false, got {raw!r}")


def _positive_int(name, default):
    raw = env.str(name, default=str(default)).strip()
    if not raw.isdigit() or int(raw) <= 0:
        _fail(name, f"expected a positive integer, got {raw!r}")
    return int(raw)


def _non_negative_int(name, default):
    raw = env.str(name, default=str(default)).strip()
    if not raw.isdigit():
        _fail(name, f"expected a whole number (0 or more), got {raw!r}")
    return int(raw)


def _list(name, default):
    return [item.strip() for item in env.str(name, default=default).split(",") if item.strip()]


def _redis_server_and_db(url):
    """``(host, port, db)`` of a redis:// URL, to tell whether two URLs name one database."""
    parts = urlsplit(url)
    db = parts.path.strip("/") or parse_qs(parts.query).get("db", ["0"])[0]
    return parts.hostname, parts.port or 6379, db


def _redis_url_with_db(url, db):
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "db"])
    return urlunsplit(parts._replace(path=f"/{db}", query=query))


# Without CELERY_BROKER_URL the task queue lives in this database of REDIS_URL's server.
BROKER_DEFAULT_DB = 1
# Without CHANNEL_LAYER_URL the channel layer (live notifications) is named after this one.
CHANNEL_LAYER_DEFAULT_DB = 3

DEBUG = _bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
# Required to serve when DEBUG is off. It is refused where it is needed — the WSGI/ASGI entry
# points and `check --deploy` (viztube.checks) — so that tooling such as `makemigrations` runs
# without one, on a throwaway per-process key that nothing else will ever accept.
SECRET_KEY_MISSING = not SECRET_KEY and not DEBUG
if SECRET_KEY_MISSING:
    SECRET_KEY = secrets.token_urlsafe(64)
elif not SECRET_KEY:
    # Local runs only: keep one generated key in var/ so tokens survive a restart.
    VAR_DIR.mkdir(exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
    SECRET_KEY = key_file.read_text().strip()
if len(SECRET_KEY.encode()) < 32:
    _fail("SECRET_KEY", "must be at least 32 bytes (it also signs the JWTs)")

ALLOWED_HOSTS = _list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    # First: its runserver replaces Django's, serving HTTP and WebSockets (ASGI) on one port.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and ReDoc served from our own static files (the docs work offline, pinned).
    "drf_spectacular_sidecar",
    "axes",
    "viztube",
    "media",
    "accounts",
    "videos",
    "social",
    "playlists",
    "dashboard",
    "notifications",
    "ops",
]

MIDDLEWARE = [
    # Outermost: the request id, and the access log line with the final status.
    "viztube.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "viztube.middleware.RequestSizeLimitMiddleware",
    # Before anything that may read a body: a chunk over the cap is refused unread.
    "viztube.middleware.UploadChunkCapMiddleware",
    # The Browser* ones are Django's, skipped for API requests (viztube/browser.py).
    "viztube.browser.BrowserSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "viztube.browser.BrowserCsrfViewMiddleware",
    "viztube.browser.BrowserAuthenticationMiddleware",
    "viztube.browser.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns an admin login lockout into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# security.W003 looks for CsrfViewMiddleware by its exact path; the CSRF middleware above is a
# subclass of it, and viztube.checks (viztube.E002) checks that one is installed instead.
SILENCED_SYSTEM_CHECKS = ["security.W003"]

ROOT_URLCONF = "viztube.urls"
WSGI_APPLICATION = "viztube.wsgi.application"
# HTTP and WebSockets: `make run` (daphne's runserver) and the WebSocket server in production.
ASGI_APPLICATION = "viztube.asgi.application"
# The module whose ``websocket_urlpatterns`` viztube.asgi routes WebSockets to (named here, as
# ROOT_URLCONF is, so that the project package imports no app above it).
WEBSOCKET_URLCONF = "notifications.routing"
# Routes answer with and without a trailing slash themselves (no redirect).
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
try:
    DATABASES = {
        "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
    }
except Exception as exc:  # django-environ raises several types for a bad URL
    _fail("DATABASE_URL", str(exc))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # The local run serves a frontend that fires a few requests at once. SQLite allows one
    # writer at a time: a write transaction takes the write lock when it begins (IMMEDIATE), so
    # it waits at BEGIN (up to the busy timeout) instead of failing half-way with "database is
    # locked"; WAL lets readers go on while one writes.
    # The list indexes carry extra columns (INCLUDE) for index-only scans on PostgreSQL; SQLite
    # builds them without those columns, which is all a local run needs, so its warning about
    # it (printed by every migrate) is noise there. PostgreSQL still reports it.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
else:
    # Persistent connections, pinged before reuse so a database restart leaves no dead ones.
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if not IS_POSTGRES and DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    _fail(
        "DATABASE_URL", "expected postgres://... (production, tests) or sqlite:///... (local runs)"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out (username, IP) pair before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Per-account lockout (django-axes): 5 failed logins for one account from one address lock that
# pair for 15 minutes. Keyed by the pair, so an attacker's address cannot lock the owner out
# from elsewhere, and the lock lifts by itself. The per-IP `login` rate limit bounds the rest.
AXES_FAILURE_LIMIT = _positive_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=_positive_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "viztube.api.client.client_ip"
AXES_LOCKOUT_CALLABLE = "viztube.views.login_locked_out"
AXES_VERBOSE = False
# Failed attempts are what the lockout needs; a log row (and a session) per login is not.
AXES_DISABLE_ACCESS_LOG = True
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "email", "fullname")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

ACCESS_TOKEN_MINUTES = _positive_int("ACCESS_TOKEN_MINUTES", 15)
REFRESH_TOKEN_DAYS = _positive_int("REFRESH_TOKEN_DAYS", 7)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=ACCESS_TOKEN_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=REFRESH_TOKEN_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Tokens carry a hash of the password hash: changing the password revokes them all.
    "CHECK_REVOKE_TOKEN": True,
    "CHECK_USER_IS_ACTIVE": True,
}
# Authenticated requests read their user from a Redis copy kept at most this long; every save or
# delete of the user retires it (accounts/user_cache.py). 0 reads PostgreSQL every time.
# Off without Redis (and refused on): a per-process cache cannot retire other workers' copies.
USER_CACHE_SECONDS = _non_negative_int("USER_CACHE_SECONDS", 300 if REDIS_URL else 0)
if USER_CACHE_SECONDS and not REDIS_URL:
    _fail("USER_CACHE_SECONDS", "needs REDIS_URL (without Redis the cache must be 0)")
AUTH_COOKIE_SAMESITE = env.str("AUTH_COOKIE_SAMESITE", default="Strict")
if AUTH_COOKIE_SAMESITE not in {"Strict", "Lax", "None"}:
    _fail("AUTH_COOKIE_SAMESITE", f"expected Strict, Lax or None, got {AUTH_COOKIE_SAMESITE!r}")
AUTH_COOKIE_SECURE = not DEBUG

# --- Cross-origin -----------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = _list("CORS_ALLOWED_ORIGINS", "http://localhost:3000,http://127.0.0.1:3000")
if "*" in CORS_ALLOWED_ORIGINS:
    _fail("CORS_ALLOWED_ORIGINS", "'*' is refused: credentials are allowed, so list the origins")
CORS_ALLOW_CREDENTIALS = True
# A resumable upload's chunks say where they go in Content-Range (PUT /uploads/:uploadId).
CORS_ALLOW_HEADERS = (*default_headers, "content-range")
# Location and Range: the resumable upload protocol (a new session's address; the bytes stored).
CORS_EXPOSE_HEADERS = [
    "X-Request-ID",
    "Retry-After",
    "Content-Range",
    "Accept-Ranges",
    "Location",
    "Range",
]
CSRF_TRUSTED_ORIGINS = _list("CSRF_TRUSTED_ORIGINS", ",".join(CORS_ALLOWED_ORIGINS))

# --- Uploads and media ------------------------------------------------------------------------
# The largest video a resumable upload session may announce (POST /uploads): its bytes arrive in
# as many requests as the client likes and are never held in memory (media/uploads.py).
VIDEO_MAX_UPLOAD_MB = _positive_int("VIDEO_MAX_UPLOAD_MB", 2048)
# The one-request multipart publish (POST /videos with videoFile): the whole file travels in one
# body that must arrive in one go, so it keeps a cap of its own.
SINGLE_UPLOAD_MAX_MB = _positive_int("SINGLE_UPLOAD_MAX_MB", 100)
IMAGE_MAX_UPLOAD_MB = _positive_int("IMAGE_MAX_UPLOAD_MB", 10)
# Upload sessions one user may have open at once (started, not yet used or cancelled, not
# expired); one more is a 429.
UPLOAD_SESSIONS_MAX = _positive_int("UPLOAD_SESSIONS_MAX", 5)
# A session expires this long after its last chunk (or its creation); the periodic task then
# deletes it and its bytes.
UPLOAD_SESSION_HOURS = _positive_int("UPLOAD_SESSION_HOURS", 24)
# Chunks of resumable uploads (PUT /uploads/:uploadId with a body) a server process reads at
# once. A chunk holds a server thread until its last byte arrives, a minute for 64 MB from a
# slow client: past this many, a chunk is answered 503 with Retry-After before a byte of it is
# read, so that the process's other threads stay free for every other request. Keep it below
# the threads a process has (GUNICORN_THREADS, 6: two for chunks, four for the rest; measured
# with bench/upload_concurrency.py, docs/benchmark.md). 0: no cap.
UPLOAD_CHUNKS_IN_FLIGHT = _non_negative_int("UPLOAD_CHUNKS_IN_FLIGHT", 2)
# JSON and form bodies; file parts are capped by the limits above.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Publishing needs two files (video + thumbnail); register needs two (avatar + cover).
DATA_UPLOAD_MAX_NUMBER_FILES = 2
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default=str(VAR_DIR / "uploads"))
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Local media URLs in API answers are absolute: this base when set (a proxy or CDN in front,
# e.g. https://media.example.com), else the origin each request came to.
MEDIA_BASE_URL = env.str("MEDIA_BASE_URL", default="").rstrip("/")
if MEDIA_BASE_URL and not MEDIA_BASE_URL.startswith(("http://", "https://")):
    _fail("MEDIA_BASE_URL", "expected an absolute http(s):// URL")

CLOUDINARY_URL = env.str("CLOUDINARY_URL", default="")
# A remote upload or delete that takes longer ends with a 502 and nothing stored.
CLOUDINARY_TIMEOUT_SECONDS = _positive_int("CLOUDINARY_TIMEOUT_SECONDS", 60)
# The same for one whole upload, all its parts together (a slow part is bounded by the timeout
# above, a slow video of many parts by this): past it the request ends with a 502, nothing stored.
CLOUDINARY_UPLOAD_DEADLINE_SECONDS = _positive_int("CLOUDINARY_UPLOAD_DEADLINE_SECONDS", 300)
# Videos (and images) stream to Cloudinary in parts of this size; the process holds about
# four parts at a time, so 6 MiB keeps a 500 MB upload under ~25 MB of memory. Minimum 5 MB.
CLOUDINARY_UPLOAD_CHUNK_BYTES = _positive_int("CLOUDINARY_UPLOAD_CHUNK_BYTES", 6_291_456)
if CLOUDINARY_UPLOAD_CHUNK_BYTES < 5_242_880:
    _fail("CLOUDINARY_UPLOAD_CHUNK_BYTES", "Cloudinary needs parts of at least 5 MB (5242880)")
# Where Cloudinary posts its notifications (the HLS rendition is ready, or failed): the absolute
# URL of POST /api/v1/webhooks/cloudinary as Cloudinary reaches it. Unset: built from the
# request that asks for the rendition (its Host, behind a proxy as the proxy forwards it).
CLOUDINARY_NOTIFICATION_URL = env.str("CLOUDINARY_NOTIFICATION_URL", default="")
if CLOUDINARY_NOTIFICATION_URL and not CLOUDINARY_NOTIFICATION_URL.startswith(
    ("http://", "https://")
):
    _fail("CLOUDINARY_NOTIFICATION_URL", "expected an absolute http(s):// URL")
# The Cloudinary streaming profile of the HLS rendition (sp_<profile>): a predefined one such as
# hd, full_hd, sd, or one of the account's own.
CLOUDINARY_STREAMING_PROFILE = env.str("CLOUDINARY_STREAMING_PROFILE", default="hd").strip()
if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", CLOUDINARY_STREAMING_PROFILE):
    _fail("CLOUDINARY_STREAMING_PROFILE", "expected a profile name such as hd or full_hd")
if CLOUDINARY_URL:
    if not CLOUDINARY_URL.startswith("cloudinary://"):
        _fail("CLOUDINARY_URL", "expected cloudinary://key:secret@cloud")
    # After staticfiles, so that Django's own collectstatic/runserver stay in charge of static files.
    INSTALLED_APPS.insert(
        INSTALLED_APPS.index("django.contrib.staticfiles") + 1, "cloudinary_storage"
    )
    _media_backends = {
        "default": {"BACKEND": "media.cloudinary_backends.CloudinaryImageStorage"},
        "videos": {"BACKEND": "media.cloudinary_backends.CloudinaryVideoStorage"},
    }
else:
    _media_backends = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "videos": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
STORAGES = {
    **_media_backends,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Background tasks and periodic work (Celery: viztube/celery.py) -------------------------------
# The broker is Redis: CELERY_BROKER_URL, or else REDIS_URL's server with database 1. The queue
# gets a database of its own because the cache's database may be flushed whole (cache.clear()
# is a FLUSHDB, e.g. in seed_demo), which would drop every queued task with it.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
if not CELERY_BROKER_URL and REDIS_URL:
    CELERY_BROKER_URL = _redis_url_with_db(REDIS_URL, BROKER_DEFAULT_DB)
if CELERY_BROKER_URL:
    if not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        _fail("CELERY_BROKER_URL", "expected redis://host:port/db (the broker is Redis)")
    if REDIS_URL and _redis_server_and_db(CELERY_BROKER_URL) == _redis_server_and_db(REDIS_URL):
        _fail(
            "CELERY_BROKER_URL",
            f"the task queue needs a Redis database of its own, not the cache's (REDIS_URL; "
            f"by default the queue uses database {BROKER_DEFAULT_DB}): a cache flush would drop "
            "the queued tasks. Set CELERY_BROKER_URL to another database.",
        )
# No broker (`make run`, the test suite): a task runs inline in the process that enqueues it,
# and the periodic tasks run in a thread of each web process (viztube/periodic.py). Nothing
# else has to be started, at the price of doing the work inside the request.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Celery still builds a producer around an inline task (it never sends anything); the
    # in-memory transport keeps it from looking for a broker on localhost.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Fire and forget: nothing reads a task's return value, so there is no result backend.
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged once it has run, and re-queued when its worker dies mid-task: every
# task is idempotent, so running one twice is harmless, losing one is not. One message at a
# time per worker process, so that a long task does not sit on others' messages.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Past the soft limit a task gets SoftTimeLimitExceeded (and may clean up); past the hard one
# its worker process is killed and replaced (the task is re-queued, see above).
CELERY_TASK_SOFT_TIME_LIMIT = _positive_int("CELERY_TASK_SOFT_TIME_LIMIT_SECONDS", 300)
CELERY_TASK_TIME_LIMIT = _positive_int("CELERY_TASK_TIME_LIMIT_SECONDS", 360)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    _fail(
        "CELERY_TASK_TIME_LIMIT_SECONDS",
        f"must be more than CELERY_TASK_SOFT_TIME_LIMIT_SECONDS ({CELERY_TASK_SOFT_TIME_LIMIT})",
    )
# A video's processing (videos.tasks.process_video) may download and read a 2 GB file: limits
# of its own.
VIDEO_PROCESSING_SOFT_TIME_LIMIT = 15 * 60
VIDEO_PROCESSING_TIME_LIMIT = 16 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged task is handed to another worker after this long: it must exceed the
    # hard time limits and the longest retry countdown (media.tasks: 10 minutes).
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# Enqueueing while Redis is down gives up within about a second (the caller then falls back,
# e.g. media deletions run inline) instead of holding the request.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Worker logs go through LOGGING below (same format as the web processes).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"

# A video still processing this long after its publish (or reprocess) is marked failed, with a
# reason that tells its owner to reprocess it: its task was never enqueued (the broker was
# down) or was lost. Longer than a task whose worker died takes to be delivered again (the
# visibility timeout) and run, so that such a video still ends ready.
VIDEO_PROCESSING_DEADLINE_MINUTES = _positive_int("VIDEO_PROCESSING_DEADLINE_MINUTES", 90)
_redelivered_within = (
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] + VIDEO_PROCESSING_TIME_LIMIT
)
if _redelivered_within >= VIDEO_PROCESSING_DEADLINE_MINUTES * 60:
    _fail(
        "VIDEO_PROCESSING_DEADLINE_MINUTES",
        f"must be more than {_redelivered_within // 60} (the broker's visibility timeout plus "
        "the processing time limit): a task whose worker died must get its second run first",
    )

# How often scheduled videos are looked for: a video becomes public at most this long after its
# publishAt in lists, search and the feed (its own page shows it from publishAt on).
SCHEDULED_PUBLISHING_SECONDS = _positive_int("SCHEDULED_PUBLISHING_SECONDS", 30)
# The one list of periodic work. `celery beat` schedules it when there is a broker; without one
# each web process runs it in a thread (viztube/periodic.py). Every task in it is safe to run
# from several places at once and again after a failure. The daily and weekly ones are at fixed
# times (UTC), so that a restart of beat does not put them off by another day or week. A frequent
# task that no worker took before its next turn expires, so stopped workers find no backlog.
CELERY_BEAT_SCHEDULE = {
    "publish-scheduled-videos": {
        "task": "videos.tasks.publish_due_videos",
        "schedule": timedelta(seconds=SCHEDULED_PUBLISHING_SECONDS),
        "options": {"expires": SCHEDULED_PUBLISHING_SECONDS},
    },
    # A video stuck in processing is failed at most this long after its deadline.
    "fail-stuck-videos": {
        "task": "videos.tasks.fail_stuck_videos",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 5 * 60},
    },
    "sweep-upload-temp": {
        "task": "media.tasks.sweep_upload_temp",
        "schedule": timedelta(minutes=15),
        "options": {"expires": 15 * 60},
    },
    # An expired upload answers 404 (and leaves its owner's count) at once; this deletes it
    # and its bytes within 15 minutes.
    "expire-upload-sessions": {
        "task": "media.tasks.expire_upload_sessions",
        "schedule": timedelta(minutes=15),
        "options": {"expires": 15 * 60},
    },
    "flush-expired-tokens": {
        "task": "accounts.tasks.flush_expired_tokens",
        "schedule": crontab(minute=30, hour=3),
    },
    "report-orphan-media": {
        "task": "ops.tasks.report_orphan_media",
        "schedule": crontab(minute=0, hour=4, day_of_week="mon"),
    },
}

# --- Live notifications (Django Channels: notifications/consumers.py) --------------------------
# Open WebSockets live in ASGI server processes; what happens elsewhere (a gunicorn request, a
# Celery task) reaches them through the channel layer: Redis pub/sub on CHANNEL_LAYER_URL, or
# else on REDIS_URL's server. Without either, an in-memory layer: pushes reach only the sockets
# of the process that makes them, which is all `make run` (one process) needs.
CHANNEL_LAYER_URL = env.str("CHANNEL_LAYER_URL", default="")
if not CHANNEL_LAYER_URL and REDIS_URL:
    CHANNEL_LAYER_URL = _redis_url_with_db(REDIS_URL, CHANNEL_LAYER_DEFAULT_DB)


def redis_channel_layer(url):
    """The channel layer on the Redis server of ``url`` (the tests build theirs here too).

    Redis pub/sub: a group is a Redis channel that each server process with a member subscribes
    to, once; a message to a group is one PUBLISH, and a process reads what is published to its
    groups as a stream on one connection. Nothing is stored in Redis: no queue to fill, and a
    process that dies leaves nothing behind (its subscriptions end with its connection). The
    price: what is published while a process is not connected is lost to it, as a live push
    may be (docs/benchmark.md compares it with channels-redis' queue-based layer).

    Pub/sub knows no databases: the URL's database number names the layer's channels instead
    (``viztube<db>...``), so that deployments sharing a Redis server stay apart by giving
    different numbers."""
    _, _, db = _redis_server_and_db(url)
    return {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": url,
                    "socket_connect_timeout": 2,
                    "socket_timeout": 15,
                    # What CLIENT LIST shows for these connections.
                    "client_name": "viztube-live",
                }
            ],
            "prefix": f"viztube{db}",
        },
    }


if CHANNEL_LAYER_URL:
    if not CHANNEL_LAYER_URL.startswith(("redis://", "rediss://")):
        _fail("CHANNEL_LAYER_URL", "expected redis://host:port/db (the channel layer is Redis)")
    CHANNEL_LAYERS = {"default": redis_channel_layer(CHANNEL_LAYER_URL)}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# A socket that has not authenticated (cookie, or a first "auth" message) this long after it
# opened is closed (4401).
WEBSOCKET_AUTH_SECONDS = _positive_int("WEBSOCKET_AUTH_SECONDS", 5)
# The largest message a client may send: the protocol has one, {"type": "auth", "token": ...}
# (an access token is about 300 bytes). Larger ones close the socket (1009). daphne's own caps
# (runserver reads these settings; the production command passes the same numbers) refuse
# them before they are even buffered whole.
WEBSOCKET_MAX_MESSAGE_BYTES = 4096
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = WEBSOCKET_MAX_MESSAGE_BYTES
DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = WEBSOCKET_MAX_MESSAGE_BYTES

# --- API --------------------------------------------------------------------------------------
VIEW_DEDUP_MINUTES = _positive_int("VIEW_DEDUP_MINUTES", 30)
# GET /videos page bodies are cached this long; structural changes retire them at once, view
# counts in lists may lag by this much (viztube/api/page_cache.py). 0 turns the cache off.
VIDEO_LIST_CACHE_SECONDS = _non_negative_int("VIDEO_LIST_CACHE_SECONDS", 10 if REDIS_URL else 0)
if VIDEO_LIST_CACHE_SECONDS and not REDIS_URL:
    _fail("VIDEO_LIST_CACHE_SECONDS", "needs REDIS_URL (without Redis the cache must be 0)")
# Proxies in front of the app that append to X-Forwarded-For (0: the header is ignored).
_proxies = env.str("TRUSTED_PROXY_COUNT", default="0").strip()
if not _proxies.isdigit():
    _fail("TRUSTED_PROXY_COUNT", f"expected 0 or a positive integer, got {_proxies!r}")
TRUSTED_PROXY_COUNT = int(_proxies)

RATE_LIMITS = {
    scope: env.str(f"RATE_LIMIT_{scope.upper()}", default=default)
    for scope, default in {
        "anon": "300/m",
        "user": "1200/m",
        "login": "15/5m",
        "register": "10/h",
        "upload": "30/h",
        "comment": "60/m",
        "toggle": "120/m",
    }.items()
}
for _scope, _rate in RATE_LIMITS.items():
    try:
        parse_rate(_rate)
    except ValueError as exc:
        _fail(f"RATE_LIMIT_{_scope.upper()}", str(exc))

_renderers = ["viztube.api.renderers.EnvelopeJSONRenderer"]
if DEBUG:
    _renderers.append("viztube.api.renderers.EnvelopeBrowsableAPIRenderer")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.JWTCookieOrHeaderAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": _renderers,
    # A JSON body must be an object and a multipart body must hold a named field (400 otherwise);
    # the negotiation applies those rules to views that list DRF's own parsers as well.
    "DEFAULT_PARSER_CLASSES": [
        "viztube.api.parsers.JSONObjectParser",
        "rest_framework.parsers.FormParser",
        "viztube.api.parsers.MultiPartFormParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "viztube.api.parsers.ContentNegotiation",
    "DEFAULT_THROTTLE_CLASSES": ["viztube.api.throttling.ScopedRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "viztube.api.schema.ApiAutoSchema",
    "VIEW_DESCRIPTION_FUNCTION": "viztube.api.descriptions.view_description",
    "EXCEPTION_HANDLER": "viztube.api.exceptions.envelope_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Dates leave as datetime objects; the renderer's encoder writes them (milliseconds, Z).
    "DATETIME_FORMAT": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "VizTube API",
    "DESCRIPTION": "The VizTube video-sharing API (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # /api/docs/ and /api/redoc/ load their scripts from drf-spectacular-sidecar's static files,
    # the version pinned in pyproject.toml, not from a CDN at @latest.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Named after what they are: a "status" elsewhere (an upload's, a webhook's) gets its own.
    "ENUM_NAME_OVERRIDES": {"VideoStatusEnum": "videos.models.VideoStatus"},
    # drf-spectacular's own enum hook, then the OpenAPI links between operations.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "viztube.api.schema.add_links",
    ],
}

# --- Security ---------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = _positive_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    # Preloading is hard to undo: off unless the operator opts in (check --deploy asks for it).
    SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", default=False)
    # TLS ends at the proxy in front of gunicorn; trust its scheme header only when declared.
    if _bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- i18n, logging ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# One line per request on stdout, written by viztube.middleware.RequestIdMiddleware (format in
# docs/operations.md); the server's own access log is off (gunicorn.conf.py). Not subject to
# LOG_LEVEL; ACCESS_LOG=0 turns it off.
ACCESS_LOG = _bool("ACCESS_LOG", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "viztube.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        # The middleware writes the whole line (time and request id included).
        "access": {"()": "viztube.access_log.AccessLineFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "plain",
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "stream": "ext://sys.stdout",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        "viztube.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        # daphne's runserver: one line per request and per WebSocket opened or closed, in
        # this log's format (not twice: Django's own "django" handler would print it again).
        "django.channels.server": {"handlers": ["console"], "propagate": False},
    },
}
if CELERY_TASK_ALWAYS_EAGER:
    # Tasks run inside the web process: Celery's line per task run (the publishing check every
    # SCHEDULED_PUBLISHING_SECONDS) would drown its log. Failures still show.
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}
CSRF_FAILURE_VIEW = "viztube.views.csrf_failure"
