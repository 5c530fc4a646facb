"""The local run path (`make run`) uses SQLite: migrate a fresh database and use the API on it."""

import pytest

from tests.sqlite_run import SqliteRun

pytestmark = pytest.mark.slow


SCRIPT = r"""
import io, json
from PIL import Image
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

png = io.BytesIO()
Image.new("RGB", (8, 8), (10, 20, 30)).save(png, "PNG")
client = Client(HTTP_HOST="localhost")
registered = client.post("/api/v1/user/register", {
    "username": "Sqlite.User", "email": "Sqlite@Example.com", "fullname": "Sq Lite",
    "password": "Quantum-Marmalade-1987",
    "avatar": SimpleUploadedFile("a.png", png.getvalue(), "image/png"),
})
duplicate = client.post("/api/v1/user/register", {
    "username": "other", "email": "SQLITE@example.com", "fullname": "Sq Lite",
    "password": "Quantum-Marmalade-1987",
    "avatar": SimpleUploadedFile("a.png", png.getvalue(), "image/png"),
})
login = client.post("/api/v1/user/login", {"username": "SQLITE.USER",
    "password": "Quantum-Marmalade-1987"}, content_type="application/json")
token = login.json()["data"]["accessToken"]
me = Client(HTTP_HOST="localhost").get(
    "/api/v1/user/current-user-details", HTTP_AUTHORIZATION="Bearer " + token)
from django.contrib.auth import get_user_model
from videos.models import Video, WatchHistory
owner = get_user_model().objects.create_user(username="owner", email="o@example.com",
    fullname="Owner", password="Quantum-Marmalade-1987")
video = Video.objects.create(owner=owner, title="On SQLite", video_file="videos/v.mp4",
    thumbnail="thumbnails/t.png", duration=1.0)
watched, watched_at = [], []
for _ in range(2):
    watched.append(Client(HTTP_HOST="localhost").get(
        f"/api/v1/videos/{video.pk}", HTTP_AUTHORIZATION="Bearer " + token).status_code)
    watched_at.append(WatchHistory.objects.get(video=video).watched_at.isoformat())
print("RESULT " + json.dumps({
    "vendor": connection.vendor,
    "register": [registered.status_code, registered.json()],
    "duplicate": duplicate.status_code,
    "login": login.status_code,
    "me": [me.status_code, me.json()["data"]],
    "watched": watched,
    "history_rows": WatchHistory.objects.filter(video=video).count(),
    "watched_at": watched_at,
}))
"""


def test_fresh_sqlite_database_migrates_and_serves_register_login_and_a_view(tmp_path):
    run = SqliteRun(tmp_path)

    migrate = run.manage("migrate", "--noinput")
    # The covering indexes' SQLite warning is silenced there (and only there): no noise.
    assert "W040" not in migrate.stdout + migrate.stderr
    result = run.shell(SCRIPT, "RESULT")
    assert result["vendor"] == "sqlite"
    status, body = result["register"]
    assert status == 201 and body["statusCode"] == 201
    assert body["data"]["username"] == "sqlite.user"
    assert result["duplicate"] == 409
    assert result["login"] == 200
    me_status, me = result["me"]
    assert me_status == 200
    assert me["id"] == body["data"]["id"] and me["email"] == "sqlite@example.com"
    # The watch-history upsert (one INSERT ... ON CONFLICT) on SQLite: one row, updated again.
    assert result["watched"] == [200, 200]
    assert result["history_rows"] == 1
    assert result["watched_at"][1] > result["watched_at"][0]
    assert (tmp_path / "db.sqlite3").exists()
    assert len(list((tmp_path / "media" / "avatars").iterdir())) == 1
