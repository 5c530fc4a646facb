"""A minimal WebSocket client on asyncio streams (RFC 6455, text frames, no extensions), for the
live server test and bench/websockets.py: a thousand of them cost little, and a test can make
one misbehave (never read, send a huge frame) as no client library would let it."""

import asyncio
import base64
import contextlib
import os
import struct

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeRefused(Exception):
    def __init__(self, status_line):
        super().__init__(status_line)
        self.status_line = status_line


class Closed(Exception):
    """The server closed the socket: ``code`` from its close frame (``None``: no close frame,
    the connection just ended)."""

    def __init__(self, code):
        super().__init__(f"closed with {code}")
        self.code = code


async def connect(host, port, path="/ws/notifications", *, headers=(), timeout=10):
    """Open a WebSocket; ``headers``: extra ``(name, value)`` pairs (Origin, Cookie)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    status_line = head.split(b"\r\n", 1)[0].decode()
    if " 101 " not in status_line:
        writer.close()
        raise HandshakeRefused(status_line)
    return Client(reader, writer)


class Client:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    async def send_text(self, text):
        await self.send_frame(TEXT, text.encode())

    async def send_frame(self, opcode, payload):
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(header + mask + masked)
        await self.writer.drain()

    async def receive(self, timeout=10):
        """The next text message (answering pings on the way); ``Closed`` when the server
        closes."""
        while True:
            opcode, payload = await asyncio.wait_for(self._frame(), timeout)
            if opcode == TEXT:
                return payload.decode()
            if opcode == PING:
                await self.send_frame(PONG, payload)
            elif opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.writer.close()
                raise Closed(code)

    async def _frame(self):
        try:
            first, second = await self.reader.readexactly(2)
        except (asyncio.IncompleteReadError, ConnectionError):
            # No close frame: the connection ended (or was reset, as a server does when it
            # drops a client whose data it did not read).
            raise Closed(None) from None
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(length)

    async def close(self, code=1000):
        with contextlib.suppress(ConnectionError):
            await self.send_frame(CLOSE, struct.pack("!H", code))
        self.writer.close()
