"""Resumable uploads over real connections: a live server, a transactional database, chunks
sent at once by threads, and connections that stall or drop in the middle of a chunk."""

import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from media import services, uploads
from media.models import UploadSession
from tests.conftest import tokens_for
from tests.factories import UploadSessionFactory, UserFactory
from tests.media.conftest import sha256

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def bearer(user):
    return {"Authorization": f"Bearer {tokens_for(user)[0]}"}


def request(url, method, headers, data=None):
    """``(status, body)`` of one request."""
    call = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def all_at_once(calls):
    """Run the ``(url, method, headers, data)`` calls released together; their answers."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        barrier.wait()
        results[index] = request(*call)

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def chunk_headers(user, first, length, size):
    return {
        **bearer(user),
        "Content-Type": "application/octet-stream",
        "Content-Range": f"bytes {first}-{first + length - 1}/{size}",
    }


def start(live_server, user, size):
    status, body = request(
        f"{live_server.url}/api/v1/uploads",
        "POST",
        {**bearer(user), "Content-Type": "application/json"},
        json.dumps({"filename": "clip.mp4", "size": size, "contentType": "video/mp4"}).encode(),
    )
    assert status == 201, body
    return body["data"]["uploadId"]


class RawPut:
    """A PUT sent by hand over a socket, so that a test can pause or drop it mid-body."""

    def __init__(self, live_server, path, headers, length):
        parts = urlsplit(live_server.url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        lines = [f"PUT {path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {length}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def send(self, data):
        self.sock.sendall(data)

    def hang_up(self):
        """The client's side of the connection ends: the server reads no more body."""
        self.sock.shutdown(socket.SHUT_WR)

    def answer(self):
        """``(status, body)`` of the server's answer."""
        received = b""
        while True:
            block = self.sock.recv(65536)
            if not block:
                break
            received += block
            head, _, body = received.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                None,
            )
            if length is not None and len(body) >= length:
                break
        self.sock.close()
        head, _, body = received.partition(b"\r\n\r\n")
        return int(head.split(b" ")[1]), json.loads(body)


def wait_until(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_two_puts_of_the_same_chunk_at_once_one_wins_the_other_409(live_server):
    user = UserFactory()
    for _ in range(5):
        upload_id = start(live_server, user, 2 * 65536)
        url = f"{live_server.url}/api/v1/uploads/{upload_id}"
        mine, theirs = os.urandom(65536), os.urandom(65536)

        results = all_at_once(
            [
                (url, "PUT", chunk_headers(user, 0, 65536, 2 * 65536), mine),
                (url, "PUT", chunk_headers(user, 0, 65536, 2 * 65536), theirs),
            ]
        )

        statuses = sorted(status for status, _ in results)
        assert statuses == [308, 409], results
        loser = next(body for status, body in results if status == 409)
        assert loser["data"]["offset"] in (0, 65536)
        winner = mine if results[0][0] == 308 else theirs
        assert uploads.part_file(upload_id).read_bytes() == winner
        session = UploadSession.objects.get(pk=upload_id)
        assert (session.received, session.writer) == (65536, None)


def test_a_chunk_sent_while_another_is_still_arriving_is_409_and_the_first_completes(
    live_server,
):
    user = UserFactory()
    data, intruder = os.urandom(200_000), os.urandom(200_000)
    upload_id = start(live_server, user, len(data))
    path = f"/api/v1/uploads/{upload_id}"
    slow = RawPut(live_server, path, chunk_headers(user, 0, len(data), len(data)), len(data))
    slow.send(data[:50_000])
    # The slow request holds the session once its claim is committed.
    wait_until(lambda: UploadSession.objects.get(pk=upload_id).writer is not None)

    status, body = request(
        f"{live_server.url}{path}", "PUT", chunk_headers(user, 0, len(data), len(data)), intruder
    )

    assert status == 409
    assert body["message"] == services.WRITER_BUSY
    assert body["data"] == {"offset": 0}
    slow.send(data[50_000:])
    status, body = slow.answer()
    assert status == 200
    assert body["data"]["complete"] is True
    assert sha256(uploads.part_file(upload_id).read_bytes()) == sha256(data)


def test_a_connection_dropped_mid_chunk_keeps_what_arrived_and_the_upload_resumes(live_server):
    user = UserFactory()
    data = os.urandom(300_000)
    upload_id = start(live_server, user, len(data))
    path = f"/api/v1/uploads/{upload_id}"
    url = f"{live_server.url}{path}"
    dropped = RawPut(live_server, path, chunk_headers(user, 0, len(data), len(data)), len(data))
    dropped.send(data[:123_457])
    dropped.hang_up()

    status, body = dropped.answer()

    assert status == 308
    assert body["data"]["offset"] == 123_457
    status, body = request(url, "GET", bearer(user))
    assert (status, body["data"]["offset"], body["data"]["complete"]) == (200, 123_457, False)
    assert uploads.part_file(upload_id).read_bytes() == data[:123_457]

    rest = data[123_457:]
    status, body = request(url, "PUT", chunk_headers(user, 123_457, len(rest), len(data)), rest)

    assert status == 200
    assert sha256(uploads.part_file(upload_id).read_bytes()) == sha256(data)


def test_starting_uploads_at_once_never_passes_the_limit(live_server, settings):
    settings.UPLOAD_SESSIONS_MAX = 5
    user = UserFactory()
    for _ in range(4):
        UploadSessionFactory(owner=user)
    body = json.dumps({"filename": "a.mp4", "size": 10, "contentType": "video/mp4"}).encode()
    headers = {**bearer(user), "Content-Type": "application/json"}

    results = all_at_once([(f"{live_server.url}/api/v1/uploads", "POST", headers, body)] * 6)

    assert sorted(status for status, _ in results) == [201] + [429] * 5
    assert UploadSession.objects.filter(owner=user).count() == 5
