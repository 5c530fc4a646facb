"""Where the bytes of a resumable upload session live, and how a chunk gets there.

Local media: one part file per session, ``MEDIA_ROOT/uploads/<id>.part``, holding the bytes
received so far from the first. A chunk is written at its offset and fsync'd before the session's
offset moves past it (``media.services``), so a crash never claims bytes that are not on disk;
whatever a writer that died wrote past the offset is cut off by the next chunk.

Cloudinary: the bytes go on into Cloudinary's chunked upload, the requests of the SDK's
``upload_large`` (each part POSTed with ``X-Unique-Upload-Id`` and ``Content-Range``; Cloudinary
assembles the asset when the last byte arrives). Cloudinary needs every part but the last to be at
least 5 MB, while a client may send chunks of any size, so the bytes are staged locally part by
part: ``MEDIA_ROOT/uploads/<id>/<index>.part`` holds the bytes ``[index * part, (index + 1) *
part)``, the part size being ``CLOUDINARY_UPLOAD_CHUNK_BYTES`` when the session began. A part is
sent as soon as it is full (the last one when the last byte has arrived), also in the middle of a
long chunk, and deleted once Cloudinary has it: a session keeps about one part on disk whatever
the client's chunk size, and a process holds one part in memory while it is sent. A part that
Cloudinary could not take stays staged and is sent again with the next chunk.

The folder is never served (``media.views`` refuses it) and must be shared by every app server
that answers the API, like ``MEDIA_ROOT`` itself.
"""

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from media.errors import MediaStorageError
from viztube import errors

SESSIONS_FOLDER = "uploads"
# A request body is read (and written) this much at a time: what a chunk costs in memory,
# whatever its size. gunicorn reads at most 1 MiB from the socket at once too.
READ_BLOCK_BYTES = 1024 * 1024
# Up to 19 digits: every size below 10**19 bytes fits a PostgreSQL bigint.
_CONTENT_RANGE = re.compile(
    r"^bytes (?:(?P<first>\d{1,19})-(?P<last>\d{1,19})|\*)/(?P<size>\d{1,19})$"
)
CONTENT_RANGE_FORMAT = "Content-Range must be 'bytes <first>-<last>/<size>' or 'bytes */<size>'"


@dataclass(frozen=True)
class ContentRange:
    """A chunk's place in the file (``first`` and ``last`` byte, inclusive) and the file's size;
    ``first`` and ``last`` are None for a status query (``bytes */<size>``)."""

    first: int | None
    last: int | None
    size: int

    @property
    def is_status_query(self):
        return self.first is None

    @property
    def length(self):
        return 0 if self.first is None else self.last - self.first + 1


def parse_content_range(header):
    """The ``ContentRange`` a chunk's header states; 400 when it is missing or malformed."""
    match = _CONTENT_RANGE.match((header or "").strip())
    if not match:
        raise errors.InvalidRequest(CONTENT_RANGE_FORMAT)
    size = int(match["size"])
    if match["first"] is None:
        return ContentRange(None, None, size)
    first, last = int(match["first"]), int(match["last"])
    if last < first:
        raise errors.InvalidRequest(f"Content-Range ends (byte {last}) before it starts ({first})")
    return ContentRange(first, last, size)


def sessions_root():
    return Path(settings.MEDIA_ROOT) / SESSIONS_FOLDER


def part_file(session_id):
    """Local media: the bytes received so far."""
    return sessions_root() / f"{session_id}.part"


def staging_folder(session_id):
    """Cloudinary: the parts not yet passed on."""
    return sessions_root() / str(session_id)


def staged_part(session_id, index):
    return staging_folder(session_id) / f"{index}.part"


def remove_local_bytes(session_id):
    """Delete what a session keeps on the local disk (its part file or its staged parts).
    Idempotent."""
    part_file(session_id).unlink(missing_ok=True)
    shutil.rmtree(staging_folder(session_id), ignore_errors=True)


def _missing_bytes(session, detail):
    return MediaStorageError(
        f"Upload {session.pk}: {detail}. Its stored bytes are gone: is MEDIA_ROOT/"
        f"{SESSIONS_FOLDER} shared by every app server?",
        name=str(session.pk),
    )


def _open_at(path, position, session):
    """``path`` opened for writing at ``position``, with anything after it cut off (what a writer
    that died left past the committed offset). Refuses a file shorter than ``position``: bytes
    the session counts as stored are not there, and padding them would corrupt the upload."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    file = os.fdopen(descriptor, "r+b", buffering=0)
    try:
        on_disk = os.fstat(descriptor).st_size
        if on_disk < position:
            raise _missing_bytes(session, f"{path.name} holds {on_disk} bytes, {position} expected")
        file.truncate(position)
        file.seek(position)
    except BaseException:
        file.close()
        raise
    return file


def _write_all(file, data):
    view = memoryview(data)
    while view:
        written = file.write(view)
        view = view[written:]


class _Sink:
    """Where a chunk's bytes go, from ``position`` on. ``sync()`` makes everything written so
    far durable; ``close()`` releases the file."""

    def __init__(self, session, first):
        self.session = session
        self.position = first
        self._file = None

    def sync(self):
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


class PartFileSink(_Sink):
    """Local media: the chunk goes into the part file at its offset."""

    def __init__(self, session, first):
        super().__init__(session, first)
        sessions_root().mkdir(parents=True, exist_ok=True)
        self._file = _open_at(part_file(session.pk), first, session)

    def write(self, block):
        _write_all(self._file, block)
        self.position += len(block)

    def filled_a_part(self):
        return False


class StagedPartsSink(_Sink):
    """Cloudinary: the chunk goes into the staged part files of the positions it covers; a part
    that is full is fsync'd and closed at once, ready to be sent (``filled_a_part``)."""

    def __init__(self, session, first):
        super().__init__(session, first)
        self._index = None
        self._filled = False
        staging_folder(session.pk).mkdir(parents=True, exist_ok=True)

    def write(self, block):
        part_bytes = self.session.part_bytes
        view = memoryview(block)
        while view:
            index, at = divmod(self.position, part_bytes)
            if index != self._index:
                self.close()
                self._file = _open_at(staged_part(self.session.pk, index), at, self.session)
                self._index = index
            take = min(len(view), part_bytes - at)
            _write_all(self._file, view[:take])
            view = view[take:]
            self.position += take
            if at + take == part_bytes:
                self.sync()
                self.close()
                self._index = None
                self._filled = True

    def filled_a_part(self):
        """Whether a part became full since the last call."""
        filled, self._filled = self._filled, False
        return filled


def open_sink(session, first):
    return StagedPartsSink(session, first) if session.is_remote else PartFileSink(session, first)


def next_part_to_send(session):
    """``(index, first, length, final)`` of the next staged part to pass on to Cloudinary, or
    None when every full part is sent (and, before the last byte, the incomplete one waits)."""
    pending = session.received - session.forwarded
    final = session.received == session.size
    if pending <= 0 or (pending < session.part_bytes and not final):
        return None
    index = session.forwarded // session.part_bytes
    length = min(session.part_bytes, session.size - session.forwarded)
    return index, session.forwarded, length, session.forwarded + length == session.size


def send_part(session, storage, index, first, length):
    """Send the staged part ``index`` to Cloudinary; returns Cloudinary's answer.

    Raises ``MediaStorageError`` when it could not be sent (and ``MediaRefused`` when Cloudinary
    refused the finished file): the part stays staged."""
    path = staged_part(session.pk, index)
    try:
        with path.open("rb") as file:
            part = file.read(length)
    except FileNotFoundError:
        raise _missing_bytes(session, f"part {index} is not staged") from None
    if len(part) != length:
        raise _missing_bytes(session, f"part {index} holds {len(part)} bytes, {length} expected")
    return storage.send_part(
        session.stored_name,
        part,
        first=first,
        total=session.size,
        upload_id=session.remote_upload_id,
    )


def drop_sent_part(session, index):
    staged_part(session.pk, index).unlink(missing_ok=True)


def read_stream(stream, length):
    """The blocks of a request body of ``length`` bytes, as they arrive; stops early when the
    client's connection ends (a body shorter than it said)."""
    remaining = length
    while remaining > 0 and stream is not None:
        try:
            block = stream.read(min(READ_BLOCK_BYTES, remaining))
        except OSError:  # the connection was reset mid-body
            return
        if not block:
            return
        remaining -= len(block)
        yield block
