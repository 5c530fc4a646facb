"""The local run path (`make run`: SQLite, no broker) delivers notifications too: inline, after
each commit, through the ORM path of the delivery (``notifications.services``)."""

import pytest

from tests.sqlite_run import SqliteRun

pytestmark = pytest.mark.slow

SCRIPT = r"""
import json
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken
from notifications.models import Notification
from videos.models import Video

User = get_user_model()
channel, fan, other = (
    User.objects.create_user(username=name, email=f"{name}@example.com", fullname=name,
        password="Quantum-Marmalade-1987")
    for name in ("channel", "fan", "other")
)

def client(user):
    token = str(RefreshToken.for_user(user).access_token)
    return Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION="Bearer " + token)

subscribed = [client(user).post(f"/api/v1/subscriptions/c/{channel.pk}").status_code
    for user in (fan, other)]
video = Video.objects.create(owner=channel, title="On SQLite", video_file="videos/v.mp4",
    thumbnail="thumbnails/t.png", duration=1.0, visibility="private")
toggled = client(channel).patch(f"/api/v1/videos/toggle/publish/{video.pk}").status_code
commented = client(fan).post(f"/api/v1/comments/{video.pk}", {"content": "Hi"},
    content_type="application/json").status_code
listed = client(channel).get("/api/v1/notifications").json()["data"]
read = client(channel).post("/api/v1/notifications/read", {"all": True},
    content_type="application/json").json()["data"]
print("RESULT " + json.dumps({
    "vendor": connection.vendor,
    "statuses": [*subscribed, toggled, commented],
    "types": sorted(Notification.objects.values_list("type", flat=True)),
    "listed": [doc["type"] for doc in listed["docs"]],
    "unread": listed["unreadCount"],
    "read": read,
}))
"""


def test_notifications_on_the_local_sqlite_run(tmp_path):
    run = SqliteRun(tmp_path)
    run.manage("migrate", "--noinput")
    result = run.shell(SCRIPT, "RESULT")
    assert result["vendor"] == "sqlite"
    assert result["statuses"] == [200, 200, 200, 201]
    assert result["types"] == [
        "channelSubscribed",
        "channelSubscribed",
        "videoCommented",
        "videoPublished",
        "videoPublished",
    ]
    assert result["listed"] == ["videoCommented", "channelSubscribed", "channelSubscribed"]
    assert result["unread"] == 3
    assert result["read"] == {"unreadCount": 0}
