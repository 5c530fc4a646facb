"""The local run path (`make run`) uses SQLite: migrate a fresh database and use the API on it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

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
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "1",
        "SECRET_KEY": "sqlite-run-path-test-key-0123456789abcdefghijklmnop",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "FILE_UPLOAD_TEMP_DIR": str(tmp_path / "uploads"),
    }
    for name in ("REDIS_URL", "CLOUDINARY_URL"):
        env.pop(name, None)
    manage = [sys.executable, str(ROOT / "manage.py")]

    migrate = subprocess.run(
        [*manage, "migrate", "--noinput"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    # The covering indexes' SQLite warning is silenced there (and only there): no noise.
    assert "W040" not in migrate.stdout + migrate.stderr
    run = subprocess.run(
        [*manage, "shell", "-c", SCRIPT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]

    line = next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
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
