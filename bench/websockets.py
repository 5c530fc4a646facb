"""Open WebSockets on one ASGI server process (daphne, started as production starts it for
/ws/): memory per socket, and the delay from a push, and from a publish, to the last socket
receiving it. Prints figures; it is not a test.

    .venv/bin/python bench/websockets.py [--sockets 1000] [--rounds 5]

Set-up: a database of its own (``viztube_wsbench``, or ``WS_BENCH_DATABASE_URL``), created and
migrated on the first run; ``--sockets`` users, each subscribed to one channel, made once and
reused. The channel layer is Redis pub/sub named after database 13 (``WS_BENCH_LAYER_URL``),
that database emptied at the start and at the end. No Redis cache, so the re-check of each socket's user at each push is a
PostgreSQL query (with ``USER_CACHE_SECONDS`` on, production reads a Redis copy instead). The
server runs on CPU 0; this script (the clients, and the pushes and publishes, made here as a
gunicorn worker or a Celery worker would make them) on CPU 1.

Measured:

- *memory*: the server's RSS (and PSS) with 10 sockets opened and closed (warm), then with
  every socket open; the difference divided by the sockets is the memory per socket. Again after
  they all closed, and after all of them opened and closed a second time (a leak would grow it
  again); the Redis channels still subscribed (must be none);
- *push*: ``--rounds`` times, an unread count pushed to every socket's user in one hand-over
  (``notifications.live.push_unread_count``, one group each): the delay from the hand-over to
  the first, the median and the last socket receiving it, and the server's CPU seconds;
- *publish*: ``--rounds`` times, the channel posts a tweet (``social.services.tweet_create``):
  the fan-out inserts a notification per subscriber and pushes their ids; each socket's
  consumer reads its notification in the API's shape and sends it. The delay from the call to
  the first, median and last socket receiving its notification.

Every wait has a time limit; the server goes whatever happens. Linux only.
"""

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import ws_client  # noqa: E402
from bench.procs import pin_to_cpu, tree_cpu_seconds, tree_memory_kb  # noqa: E402
from bench.run import (  # noqa: E402
    LOAD_CPU,
    SERVER_CPU,
    BenchError,
    ensure_database,
    free_port,
    log,
    machine_description,
    manage,
)

DAPHNE = REPO / ".venv" / "bin" / "daphne"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/viztube_wsbench"
DEFAULT_LAYER_URL = "redis://127.0.0.1:6379/13"
SECRET_KEY = "websocket-bench-key-" + "0123456789abcdef" * 3
CHANNEL = "wsbench_channel"
OPEN_AT_ONCE = 50  # the server's listen backlog is 50
ROUND_SECONDS = 60


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    return parser.parse_args(argv)


def environment(database_url, layer_url):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=database_url,
        CHANNEL_LAYER_URL=layer_url,
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1",
        ACCESS_TOKEN_MINUTES="240",  # noqa: S106 (a lifetime, not a password)
        LOG_LEVEL="WARNING",
        PYTHONDONTWRITEBYTECODE="1",
        MALLOC_ARENA_MAX="2",
    )
    return env


def setup_django(env):
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "viztube.settings")
    import django

    django.setup()


def seed(count):
    """``count`` users subscribed to one channel (made once); their access tokens."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from rest_framework_simplejwt.tokens import AccessToken

    from social.models import Subscription

    user_model = get_user_model()
    password = make_password(secrets.token_urlsafe(12))
    channel, _ = user_model.objects.get_or_create(
        username=CHANNEL,
        defaults={"email": f"{CHANNEL}@bench.example", "fullname": "Bench", "password": password},
    )
    have = user_model.objects.filter(username__startswith="wsbench_u").count()
    if have < count:
        log(f"making {count - have} users and their subscriptions")
        made = user_model.objects.bulk_create(
            user_model(
                username=f"wsbench_u{i}",
                email=f"wsbench_u{i}@bench.example",
                fullname=f"Bench {i}",
                password=password,
            )
            for i in range(have, count)
        )
        Subscription.objects.bulk_create(
            Subscription(subscriber=user, channel=channel) for user in made
        )
        user_model.objects.filter(pk=channel.pk).update(
            subscribers_count=Subscription.objects.filter(channel=channel).count()
        )
    users = list(user_model.objects.filter(username__startswith="wsbench_u").order_by("id"))
    users = users[:count]
    return channel, users, [str(AccessToken.for_user(user)) for user in users]


def clear_notifications(channel):
    from notifications.models import Notification
    from social.models import Tweet

    Notification.objects.filter(actor=channel).delete()
    Tweet.objects.filter(author=channel).delete()


class Server:
    def __init__(self, env, port):
        self.port = port
        self.process = subprocess.Popen(  # noqa: S603 (fixed argv)
            [  # noqa: S607 (taskset from PATH, as bench/run.py)
                "taskset",
                "-c",
                str(SERVER_CPU),
                str(DAPHNE),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "--websocket-max-message-size",
                "4096",
                "--websocket-max-frame-size",
                "4096",
                "viztube.asgi:application",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    async def wait_listening(self, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"daphne exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.2)
        raise BenchError("daphne did not start listening")

    def memory_mb(self):
        rss, pss, _ = tree_memory_kb(self.process.pid)
        return rss / 1024, pss / 1024

    def cpu_seconds(self):
        return tree_cpu_seconds(self.process.pid)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


class Arrivals:
    """When each socket received the message a round waits for."""

    def __init__(self, count):
        self.count = count
        self.want = None
        self.times = {}
        self.done = asyncio.Event()

    def expect(self, want):
        self.want, self.times = want, {}
        self.done.clear()

    def received(self, index, message):
        if self.want is not None and self.want(message) and index not in self.times:
            self.times[index] = time.perf_counter()
            if len(self.times) == self.count:
                self.done.set()


async def open_sockets(port, tokens, arrivals):
    sockets = []
    for start in range(0, len(tokens), OPEN_AT_ONCE):
        batch = tokens[start : start + OPEN_AT_ONCE]
        opened = await asyncio.gather(
            *(
                ws_client.connect(
                    "127.0.0.1", port, headers=[("Cookie", f"accessToken={token}")], timeout=30
                )
                for token in batch
            )
        )
        # The first message of each: its unread count (authenticated, in its group).
        for client in opened:
            json.loads(await client.receive(30))
        sockets.extend(opened)
    readers = [asyncio.create_task(read(i, s, arrivals)) for i, s in enumerate(sockets)]
    return sockets, readers


async def read(index, client, arrivals):
    try:
        while True:
            arrivals.received(index, json.loads(await client.receive(timeout=3600)))
    except (ws_client.Closed, asyncio.CancelledError):
        pass


def summary(started, arrivals):
    delays = sorted((at - started) * 1000 for at in arrivals.times.values())
    return {
        "first_ms": round(delays[0], 1),
        "median_ms": round(statistics.median(delays), 1),
        "last_ms": round(delays[-1], 1),
    }


async def arrived_all(arrivals, what):
    try:
        await asyncio.wait_for(arrivals.done.wait(), ROUND_SECONDS)
    except TimeoutError:
        raise BenchError(
            f"{what}: {len(arrivals.times)} of {arrivals.count} sockets received it "
            f"within {ROUND_SECONDS} s"
        ) from None


async def measure_pushes(server, users, arrivals, rounds):
    from notifications import live
    from viztube import realtime

    results = []
    for n in range(rounds):
        count = 1000 + n  # a new count each round: a socket does not resend the one it sent
        arrivals.expect(
            lambda m, count=count: m["type"] == "unreadCount" and m["data"]["unreadCount"] == count
        )
        cpu = server.cpu_seconds()

        def push(count=count):
            for user in users:
                live.push_unread_count(user.pk, count)

        started = time.perf_counter()
        # One hand-over per call here (a request pushes one); the sender sends them in turn.
        await asyncio.to_thread(push)
        await arrived_all(arrivals, "push")
        row = summary(started, arrivals)
        await asyncio.to_thread(realtime.flush, 10)
        await asyncio.sleep(0.5)
        row["server_cpu_s"] = round(server.cpu_seconds() - cpu, 2)
        results.append(row)
        log(f"push round {n + 1}: {row}")
    return results


async def measure_publishes(server, channel, arrivals, rounds):
    from social.services import tweet_create

    results = []
    for n in range(rounds):
        content = f"bench tweet {n} {secrets.token_hex(4)}"
        arrivals.expect(
            lambda m, content=content: (
                m["type"] == "notification" and m["data"].get("tweet", {}).get("content") == content
            )
        )
        cpu = server.cpu_seconds()
        started = time.perf_counter()
        await asyncio.to_thread(
            lambda content=content: tweet_create(author=channel, content=content)
        )
        returned = time.perf_counter()
        await arrived_all(arrivals, "publish")
        row = summary(started, arrivals)
        row["publish_call_ms"] = round((returned - started) * 1000, 1)
        await asyncio.sleep(1)
        row["server_cpu_s"] = round(server.cpu_seconds() - cpu, 2)
        results.append(row)
        log(f"publish round {n + 1}: {row}")
    return results


async def run(args):
    import redis

    database_url = os.environ.get("WS_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    layer_url = os.environ.get("WS_BENCH_LAYER_URL", DEFAULT_LAYER_URL)
    env = environment(database_url, layer_url)
    ensure_database(database_url)
    manage(env, "migrate", "--noinput", "-v", "0", timeout=600)
    setup_django(env)
    channel, users, tokens = await asyncio.to_thread(seed, args.sockets)
    await asyncio.to_thread(clear_notifications, channel)
    layer = redis.Redis.from_url(layer_url)
    layer.flushdb()
    from django.conf import settings

    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    facts = {"machine": machine_description(), "sockets": args.sockets}
    server = Server(env, free_port())
    try:
        await server.wait_listening()
        # Warm: imports done, a database connection and the thread pool made.
        arrivals = Arrivals(10)
        warm, warm_readers = await open_sockets(server.port, tokens[:10], arrivals)
        for client in warm:
            await client.close()
        for reader in warm_readers:
            reader.cancel()
        await asyncio.sleep(2)
        rss0, pss0 = server.memory_mb()

        arrivals = Arrivals(args.sockets)
        started = time.perf_counter()
        sockets, readers = await open_sockets(server.port, tokens, arrivals)
        facts["open_all_s"] = round(time.perf_counter() - started, 2)
        await asyncio.sleep(2)
        rss1, pss1 = server.memory_mb()
        facts["channels_open"] = len(layer.pubsub_channels(f"{prefix}*"))
        facts["memory"] = {
            "rss_warm_mb": round(rss0, 1),
            "rss_open_mb": round(rss1, 1),
            "pss_warm_mb": round(pss0, 1),
            "pss_open_mb": round(pss1, 1),
            "per_socket_kb": round((rss1 - rss0) * 1024 / args.sockets, 1),
            "per_socket_pss_kb": round((pss1 - pss0) * 1024 / args.sockets, 1),
        }
        log(f"{args.sockets} sockets open in {facts['open_all_s']} s: {facts['memory']}")

        facts["push"] = await measure_pushes(server, users, arrivals, args.rounds)
        facts["publish"] = await measure_publishes(server, channel, arrivals, args.rounds)

        for client in sockets:
            await client.close()
        for reader in readers:
            reader.cancel()
        await asyncio.sleep(8)
        rss2, _ = server.memory_mb()
        facts["memory"]["rss_after_close_mb"] = round(rss2, 1)
        facts["channels_after_close"] = len(layer.pubsub_channels(f"{prefix}*"))
        facts["keys_after_close"] = len(layer.keys("*"))
        # Once more, open and closed: what a socket leaves behind would grow the process again.
        arrivals = Arrivals(args.sockets)
        sockets, readers = await open_sockets(server.port, tokens, arrivals)
        for client in sockets:
            await client.close()
        for reader in readers:
            reader.cancel()
        await asyncio.sleep(8)
        facts["memory"]["rss_after_second_close_mb"] = round(server.memory_mb()[0], 1)
    finally:
        server.stop()
        layer.flushdb()
        await asyncio.to_thread(clear_notifications, channel)
    return facts


def report(facts):
    def row(name, rows):
        pick = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
        worst = max(r["last_ms"] for r in rows)
        return (
            f"| {name} | {pick['first_ms']:.0f} | {pick['median_ms']:.0f} | "
            f"{pick['last_ms']:.0f} | {worst:.0f} | {pick['server_cpu_s']:.2f} |"
        )

    memory = facts["memory"]
    print(f"\n{facts['machine']}; {facts['sockets']} sockets on one daphne process\n")
    print(
        f"Memory: RSS {memory['rss_warm_mb']} MB warm, {memory['rss_open_mb']} MB with every "
        f"socket open: {memory['per_socket_kb']} kB per socket (PSS "
        f"{memory['per_socket_pss_kb']} kB); {memory['rss_after_close_mb']} MB after they all "
        f"closed, {memory['rss_after_second_close_mb']} MB after all opened and closed again. "
        f"Opened in {facts['open_all_s']} s. Redis channels subscribed: "
        f"{facts['channels_open']} open, {facts['channels_after_close']} after closing "
        f"({facts['keys_after_close']} keys in the database).\n"
    )
    print(
        "| to every socket | first ms | median ms | last ms (median) | last ms (worst) | server CPU s |"
    )
    print("|---|---|---|---|---|---|")
    print(row("push (unread count)", facts["push"]))
    print(row("publish (tweet, fan-out)", facts["publish"]))
    print("\n" + json.dumps(facts))


def main(argv=None):
    args = parse_args(argv)
    pin_to_cpu(LOAD_CPU)
    report(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
