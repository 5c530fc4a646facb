"""The local run (`make run`: runserver on SQLite) under a frontend's parallel writes, and the
constraint-to-409 mappings on SQLite: a real server, a real SQLite file, real threads."""

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.sqlite_run import SqliteRun

pytestmark = pytest.mark.slow

WRITERS = 16

SETUP = r"""
import json
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import RefreshToken
from playlists.models import Playlist
from videos.models import Video

User = get_user_model()
owner = User.objects.create_user(username="owner", email="owner@example.com", fullname="Owner",
    password="Quantum-Marmalade-1987")
video = Video.objects.create(owner=owner, title="Parallel", video_file="videos/v.mp4",
    thumbnail="thumbnails/t.png", duration=1.0)
playlist = Playlist.objects.create(owner=owner, name="Mine")
tokens = []
for n in range(__WRITERS__):
    user = User.objects.create_user(username=f"fan{n}", email=f"fan{n}@example.com",
        fullname="Fan", password="Quantum-Marmalade-1987")
    tokens.append(str(RefreshToken.for_user(user).access_token))
print("SETUP " + json.dumps({"video": str(video.pk), "playlist": str(playlist.pk),
    "owner": str(RefreshToken.for_user(owner).access_token), "tokens": tokens}))
""".replace("__WRITERS__", str(WRITERS))

COUNTERS = r"""
import json
from videos.models import Video
video = Video.objects.get()
print("COUNTERS " + json.dumps([video.likes_count, video.comments_count,
    video.likes.count(), video.comments.count()]))
"""


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _call(url, token, method="POST", body=None):
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body or {}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _in_parallel(calls):
    """Run ``calls`` at once (released together by a barrier); their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def sqlite_server(tmp_path):
    run = SqliteRun(tmp_path)
    run.manage("migrate", "--noinput")
    data = run.shell(SETUP, "SETUP")
    port = _free_port()
    server = run.server(port)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthcheck", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield base, data, lambda: run.shell(COUNTERS, "COUNTERS")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_parallel_likes_and_comments_all_succeed_on_sqlite(sqlite_server):
    base, data, counters = sqlite_server
    video = data["video"]

    likes = _in_parallel(
        [lambda t=t: _call(f"{base}/likes/toggle/v/{video}", t) for t in data["tokens"]]
    )
    comments = _in_parallel(
        [
            lambda t=t, n=n: _call(f"{base}/comments/{video}", t, body={"content": f"c{n}"})
            for n, t in enumerate(data["tokens"])
        ]
    )

    assert [status for status, _ in likes] == [200] * WRITERS
    assert [status for status, _ in comments] == [201] * WRITERS
    # The counters are exact: every write counted once, as the rows say.
    assert counters() == [WRITERS, WRITERS, WRITERS, WRITERS]


def test_adding_a_video_to_a_playlist_twice_is_a_409_on_sqlite(sqlite_server):
    base, data, _ = sqlite_server
    url = f"{base}/playlist/{data['playlist']}/{data['video']}"

    first = _call(url, data["owner"])
    second = _call(url, data["owner"])

    assert first[0] == 200
    assert second[0] == 409
    assert second[1]["message"] == "Video already in playlist"
