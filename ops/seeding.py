"""Deterministic demo data for VizTube: the logic behind ``manage.py seed_demo``.

What the data set looks like (``scale`` 1; every count is multiplied by ``scale``):

- 10,000 users; one channel, ``bigchannel``, owns ~12% of the videos; the other videos belong to
  about a fifth of the users, with a heavy tail (a few prolific creators, many with one video).
- 100,000 videos, 90% published; views follow a Pareto law (a few with millions, most with tens).
- 1,000,000 video likes, 300,000 comments, 200,000 subscriptions, 50,000 watch-history rows,
  5,000 playlists with 100,000 entries, 50,000 tweets. Decision: also
  50,000 comment likes and 20,000 tweet likes, so the ``likesCount``/``isLiked`` of comments and
  tweets are not always zero. Likes, comments, watch history and playlist entries go to published
  videos, except a deliberate 2% of likes and comments on unpublished ones (a video that was
  unpublished after people reacted), so that visibility filters have something to hide.
- The benchmark's viewer (the first user by username after the big channel, named in the summary
  as ``feed_viewer``) subscribes to about 1,000 channels (``FEED_VIEWER_CHANNELS`` x ``scale``), the
  big channel among them, on top of the 200,000 subscriptions: the subscription feed is measured
  for a reader of many channels, one of them with 12,000 videos. Drawn from a generator of their
  own, so every other row is the same as without them.
- Who acts and what gets attention is skewed: user activity and video popularity are drawn from
  Pareto laws (popularity follows views), mixed with a uniform floor so that the long tail also
  gets some rows.
- Text comes from a fixed vocabulary with Zipf-distributed word frequencies, so a full-text
  search has realistic selectivity: a few words are in many titles, most words in few. The
  summary names a word that is in about 1% of titles (for benchmarks).
- Timestamps lie in a fixed window (2023-01-01 to 2026-01-01 UTC), not around "now", so that the
  same ``seed`` and ``scale`` give the very same rows. Every row happens after the rows it
  depends on (a like after its video and its user). Ids are UUIDv7 built from the row's
  ``created_at`` and the seeded random generator, so id order is creation order.
- Every user's password is ``DEMO_PASSWORD``. It is hashed once, with a fixed salt (hashing
  10,000 times with Argon2 would take a quarter of an hour; a fixed salt keeps runs identical).
- Media: every row points at a handful of shared files (``videos/demo-1.mp4``,
  ``thumbnails/demo-3.png``...), written once to the storages; not one file per row. A video's
  ``duration`` is that of the clip it plays, read once per clip with the probe that uploads go
  through (the shipped clips last one second), so a player and the API agree.

How it loads: everything is generated in memory first (tuples of small ints), then written with
PostgreSQL ``COPY ... FROM STDIN`` (psycopg 3), one table after the other, inside one
transaction. The ``search_vector`` trigger fires on COPY too. On SQLite (local runs) rows go in
with ``executemany`` batches instead. The denormalised counters are computed at the end with
set-based UPDATEs from the rows themselves, so they are exact.
"""

import bisect
import contextlib
import io
import math
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from PIL import Image, ImageDraw

from accounts.models import User
from media.storage import video_storage
from media.validation import probe_video
from playlists.models import Playlist, PlaylistVideo
from social import counters
from social.models import Comment, Like, Subscription, Tweet
from videos.models import Video, WatchHistory
from videos.selectors import listed_videos_q

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - documented demo credential, not a secret
# A fixed salt keeps the seeded data identical from run to run (the password is public anyway).
_DEMO_PASSWORD_SALT = "viztubedemosalt0"  # noqa: S105 - see the comment above
BIG_CHANNEL_USERNAME = "bigchannel"
BIG_CHANNEL_SHARE = 0.12
PUBLISHED_SHARE = 0.90
# Share of likes and comments that land on unpublished videos (see the module docstring).
HIDDEN_TARGET_SHARE = 0.02
SEARCH_WORD_TITLE_SHARE = 0.01
# Channels the benchmark's viewer subscribes to at scale 1 (see the module docstring).
FEED_VIEWER_CHANNELS = 1_000

WINDOW_START = datetime(2023, 1, 1, tzinfo=UTC)
WINDOW_END = datetime(2026, 1, 1, tzinfo=UTC)
_START_MS = int(WINDOW_START.timestamp() * 1000)
_END_MS = int(WINDOW_END.timestamp() * 1000)
_DAY_MS = 86_400_000

# Row counts at scale 1, the standard benchmark data set (plus the comment and tweet likes, see above).
SCALE_1_COUNTS = {
    "users": 10_000,
    "videos": 100_000,
    "video_likes": 1_000_000,
    "comment_likes": 50_000,
    "tweet_likes": 20_000,
    "comments": 300_000,
    "subscriptions": 200_000,
    "watch_history": 50_000,
    "playlists": 5_000,
    "playlist_entries": 100_000,
    "tweets": 50_000,
}
# Below these the data set stops making sense (a big channel needs other channels to dwarf).
MINIMUM_COUNTS = {"users": 10, "videos": 20, "playlists": 2}
# A table of unique pairs never gets more than this share of every possible pair: the random
# draws would otherwise spend most of their time on duplicates at tiny scales.
_MAX_PAIR_FILL = 0.5

DEMO_VIDEO_FILES = (("videos/demo-1.mp4", "sample.mp4"), ("videos/demo-2.webm", "sample.webm"))
DEMO_THUMBNAILS = tuple(f"thumbnails/demo-{i}.png" for i in range(1, 7))
DEMO_AVATARS = tuple(f"avatars/demo-{i}.png" for i in range(1, 5))
DEMO_COVERS = tuple(f"covers/demo-{i}.png" for i in range(1, 3))
# The real, tiny video files that the demo rows play (shipped for the test suite).
SAMPLE_MEDIA_DIR = Path(settings.BASE_DIR) / "tests" / "media"


def _word_list(text):
    return tuple(text.split())


# Distinct stems under PostgreSQL's English stemmer, no stop words: searching one of them finds
# titles with that word only. Ordered roughly by how common the word is (Zipf rank).
VOCABULARY = _word_list("""
music video live tutorial review guide game news travel food
cooking recipe guitar piano football basketball highlights workout yoga coffee
city mountain ocean river forest winter summer autumn spring garden
camera drone sunset beach island desert canyon volcano glacier lake
python javascript linux database server network kernel compiler algorithm robot
science physics chemistry biology history economy market startup design architecture
painting drawing sculpture pottery knitting woodwork carpentry plumbing bicycle motorcycle
truck tractor train airplane rocket satellite telescope planet galaxy comet
dinosaur whale dolphin shark octopus penguin eagle falcon owl parrot
kitten puppy horse rabbit hamster turtle lizard spider butterfly honeybee
pizza burger pasta sushi taco noodle dumpling pancake waffle cheesecake
chocolate vanilla strawberry mango pineapple avocado tomato potato mushroom pepper
bread butter cheese yogurt honey salmon shrimp lobster oyster steak
marathon sprint swimming surfing skiing snowboard climbing hiking camping fishing
chess poker puzzle riddle trivia quiz karaoke concert festival parade
wedding birthday holiday vacation weekend morning evening midnight sunrise twilight
tokyo paris london berlin madrid rome lisbon vienna prague oslo
iceland norway sweden finland denmark ireland scotland wales portugal greece
electric acoustic vintage modern classic retro minimal rustic cozy epic
quick simple ultimate honest secret hidden strange ancient future tiny
giant golden silver crystal velvet copper bronze marble granite cedar
jazz blues reggae techno opera ballet symphony orchestra violin cello
trumpet saxophone drum harmonica banjo ukulele flute clarinet accordion harp
podcast interview documentary vlog unboxing speedrun livestream trailer teaser montage
keyboard monitor laptop smartphone tablet headphone speaker microphone router printer
budget savings mortgage pension invoice taxes salary crypto stocks bonds
fitness nutrition protein vitamin sleep meditation therapy anxiety focus habit
origami calligraphy embroidery quilting weaving sewing crochet beadwork mosaic stencil
lantern candle mirror window ladder bucket shovel hammer wrench chisel
meteor eclipse aurora tornado hurricane blizzard monsoon drought earthquake tsunami
pirate knight wizard dragon goblin castle kingdom empire legend myth
sketch comedy drama thriller mystery horror romance western fantasy anime
bakery brewery vineyard orchard greenhouse farmhouse cottage cabin lighthouse harbor
""")

FIRST_NAMES = _word_list("""
ada alan alice amara anna arjun ben bruno carla chen chloe dan diego dina elena emil
emma ethan farah felix gina grace hana hugo ines ivan jade jonas julia kai kenji lara
leo lina luca maya mila nadia nina noah omar oscar paula priya rafael rosa ruth sam
sara sofia tariq theo uma vera wei yara yusuf zoe
""")
LAST_NAMES = _word_list("""
abbott alvarez baker bauer chen costa dubois evans fischer garcia hansen ito jensen
kaur kim kowalski larsen lopez martin meyer moreau nakamura novak okafor olsen patel
perez rossi santos schmidt silva smith tanaka taylor torres wagner walsh weber wong
yilmaz zhang
""")


def planned_counts(scale):
    """Row counts for ``scale`` (1 = the standard benchmark data set), before the unique-pair caps."""
    counts = {}
    for table, full in SCALE_1_COUNTS.items():
        counts[table] = max(MINIMUM_COUNTS.get(table, 0), round(full * scale))
    return counts


@dataclass
class SeedResult:
    """What ``seed_demo`` prints and writes as JSON (``--summary-json``)."""

    seed: int
    scale: float
    counts: dict
    big_channel: dict
    most_commented_video: dict
    most_viewed_video: dict
    search_word: dict
    feed_viewer: dict = field(default_factory=dict)
    demo_password: str = DEMO_PASSWORD
    media: list = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self):
        return {
            "seed": self.seed,
            "scale": self.scale,
            "seconds": round(self.seconds, 1),
            "demo_password": self.demo_password,
            "counts": self.counts,
            "big_channel": self.big_channel,
            "most_commented_video": self.most_commented_video,
            "most_viewed_video": self.most_viewed_video,
            "search_word": self.search_word,
            "feed_viewer": self.feed_viewer,
            "media": self.media,
        }


class DatabaseNotEmpty(Exception):
    """The database already holds VizTube rows and the caller did not ask to flush them."""


class DemoMediaMissing(Exception):
    """A sample clip the demo videos play is not in ``SAMPLE_MEDIA_DIR`` (a broken checkout)."""


def probe_demo_clips():
    """The duration in seconds of each demo clip (``DEMO_VIDEO_FILES`` name -> seconds), read
    from its sample file by the same probe as an uploaded video's."""
    durations = {}
    for name, sample in DEMO_VIDEO_FILES:
        source = SAMPLE_MEDIA_DIR / sample
        if not source.is_file():
            raise DemoMediaMissing(f"{source} is missing: the demo videos play copies of it")
        with source.open("rb") as clip:
            durations[name] = probe_video(File(clip, name=sample)).duration
    return durations


# Child tables first: the order in which rows can be deleted without breaking a foreign key.
SEEDED_MODELS = (Like, Comment, Tweet, Subscription, PlaylistVideo, Playlist, WatchHistory, Video)


def existing_row_counts():
    """Rows already present in the tables seed_demo fills (users included), for the refusal."""
    models = (User, *reversed(SEEDED_MODELS))
    return {m._meta.db_table: m.objects.count() for m in models if m.objects.exists()}


def flush_demo_tables():
    """Delete every user and everything that hangs off users (videos, likes, tokens, ...)."""
    if connection.vendor == "postgresql":
        tables = ", ".join(
            connection.ops.quote_name(m._meta.db_table) for m in (User, *SEEDED_MODELS)
        )
        # CASCADE also empties the tables that point at users from other apps (outstanding
        # tokens, the admin log, group memberships): they cannot outlive their users.
        with connection.cursor() as cursor:
            # TRUNCATE refuses tables with deferred foreign-key checks still queued (rows
            # written earlier in this transaction): run those checks now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {tables} CASCADE")
    else:
        for model in SEEDED_MODELS:
            model.objects.all().delete()
        User.objects.all().delete()


def _uuid7(ms, rng):
    """A UUIDv7 whose 48-bit timestamp is ``ms``, with random bits from the seeded generator."""
    rand = rng.getrandbits(74)
    return uuid.UUID(
        int=(ms << 80)
        | (0x7 << 76)
        | ((rand >> 62) << 64)
        | (0b10 << 62)
        | (rand & ((1 << 62) - 1))
    )


def _dt(ms):
    return WINDOW_START + timedelta(milliseconds=ms - _START_MS)


def _cumulative(weights):
    total = 0.0
    cumulative = []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return cumulative


def _quotas(weights, total):
    """Split ``total`` in proportion to ``weights`` (largest remainders; sums to ``total``)."""
    weight_sum = sum(weights)
    exact = [total * w / weight_sum for w in weights]
    quotas = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (quotas[i] - exact[i], i))
    for i in by_remainder[: total - sum(quotas)]:
        quotas[i] += 1
    return quotas


def _with_floor(weights, floor_share):
    """Mix a weight vector with a uniform one so that every item keeps some chance."""
    floor = (sum(weights) / len(weights)) * floor_share / max(1e-9, 1 - floor_share)
    return [w + floor for w in weights]


class _Progress:
    """Thin wrapper so the generator does not care whether there is a progress bar."""

    def __init__(self, factory):
        self._factory = factory

    def bar(self, total, desc):
        if self._factory is None:
            return _NoBar()
        return self._factory(total=total, desc=desc, unit="rows", unit_scale=True, leave=True)


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


class _TableWriter:
    """Writes rows (tuples in ``columns`` order) with COPY on PostgreSQL, executemany elsewhere."""

    BATCH = 5_000

    def __init__(self, progress, log):
        self.progress = progress
        self.log = log

    def write(self, model, columns, rows, total, desc):
        started = time.monotonic()
        bar = self.progress.bar(total, desc)
        try:
            if connection.vendor == "postgresql":
                self._copy(model, columns, rows, bar)
            else:
                self._insert(model, columns, rows, bar)
        finally:
            bar.close()
        self.log(f"  {desc}: {total:,} rows in {time.monotonic() - started:.1f} s")

    def _copy(self, model, columns, rows, bar):
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(model._meta.db_table),
            sql.SQL(", ").join(sql.Identifier(model._meta.get_field(c).column) for c in columns),
        )
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            pending = 0
            for row in rows:
                copy.write_row(row)
                pending += 1
                if pending == self.BATCH:
                    bar.update(pending)
                    pending = 0
            bar.update(pending)

    def _insert(self, model, columns, rows, bar):
        fields = [model._meta.get_field(c) for c in columns]
        quote = connection.ops.quote_name
        # Table and column names come from the models (and are quoted); values are parameters.
        statement = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
            quote(model._meta.db_table),
            ", ".join(quote(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )
        batch = []
        with connection.cursor() as cursor:
            for row in rows:
                batch.append(
                    [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
                )
                if len(batch) == self.BATCH:
                    cursor.executemany(statement, batch)
                    bar.update(len(batch))
                    batch = []
            if batch:
                cursor.executemany(statement, batch)
                bar.update(len(batch))


class DemoSeeder:
    """Generates and loads the demo data set. Use ``seed_demo_data()``; this holds the state."""

    def __init__(self, *, seed, scale, progress_factory=None, write_media=True, log=None):
        self.seed = seed
        self.scale = scale
        self.rng = random.Random(seed)
        self.counts = planned_counts(scale)
        self.progress = _Progress(progress_factory)
        self.log = log or (lambda message: None)
        self.writer = _TableWriter(self.progress, self.log)
        self.write_media = write_media
        self.media_names = {}
        self.clip_durations = {}

    # --- text ---------------------------------------------------------------------------------

    def _prepare_text(self):
        # Zipf: the word of rank k is drawn with weight 1/k.
        self._word_cum = _cumulative([1 / rank for rank in range(1, len(VOCABULARY) + 1)])

    def _words(self, count):
        return self.rng.choices(VOCABULARY, cum_weights=self._word_cum, k=count)

    def _title(self):
        words = self._words(self.rng.randint(2, 8))
        while len(" ".join(words)) > 100:
            words.pop()
        return words

    def _sentences(self, count, limit):
        rng = self.rng
        words = self._words(count)
        parts = []
        i = 0
        while i < len(words):
            length = rng.randint(4, 12)
            sentence = " ".join(words[i : i + length])
            parts.append(sentence[0].upper() + sentence[1:] + ".")
            i += length
        text = " ".join(parts)
        if len(text) > limit:
            text = text[:limit].rsplit(" ", 1)[0]
        return text

    # --- people -------------------------------------------------------------------------------

    def _generate_users(self):
        rng = self.rng
        n = self.counts["users"]
        # Sign-ups over the first 80% of the window; user 0 (the big channel) is the first.
        span = int((_END_MS - _START_MS) * 0.8)
        times = sorted(_START_MS + int(rng.random() * span) for _ in range(n))
        self.user_ts = times
        self.user_ids = [_uuid7(ms, rng) for ms in times]
        # How much each person likes, comments, subscribes...: heavy-tailed.
        self.user_activity = [rng.paretovariate(1.5) for _ in range(n)]
        self.usernames = []
        self.fullnames = []
        for i in range(n):
            if i == 0:
                self.usernames.append(BIG_CHANNEL_USERNAME)
                self.fullnames.append("Big Channel")
                continue
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            self.usernames.append(f"{first}.{last}{i}")
            self.fullnames.append(f"{first.title()} {last.title()}")

    def _user_rows(self):
        rng = self.rng
        password = make_password(DEMO_PASSWORD, salt=_DEMO_PASSWORD_SALT)
        avatars = [self.media_names.get(n, n) for n in DEMO_AVATARS]
        covers = [self.media_names.get(n, n) for n in DEMO_COVERS]
        for i, user_id in enumerate(self.user_ids):
            created = _dt(self.user_ts[i])
            cover = rng.choice(covers) if rng.random() < 0.3 else ""
            yield (
                user_id,
                password,
                None,
                False,
                self.usernames[i],
                f"{self.usernames[i]}@example.com",
                self.fullnames[i],
                rng.choice(avatars),
                cover,
                True,
                False,
                0,
                0,
                created,
                created,
            )

    # --- videos -------------------------------------------------------------------------------

    def _generate_videos(self):
        rng = self.rng
        n = self.counts["videos"]
        n_users = self.counts["users"]
        # Creators: about a fifth of the users (at least eight), prolific ones rarer, but none
        # as big as the big channel: each gets at most ~6% of all videos (or an equal share
        # when there are too few creators for that). Quotas, not draws: no sampling noise.
        creators = sorted(
            rng.sample(range(1, n_users), min(n_users - 1, max(8, (n_users - 1) // 5)))
        )
        big_channel_videos = round(n * BIG_CHANNEL_SHARE)
        weights = [rng.paretovariate(1.2) for _ in creators]
        limit = max(1 / len(creators), 0.06 / (1 - BIG_CHANNEL_SHARE))
        for _ in range(20):
            cap = limit * sum(weights)
            weights = [min(w, cap) for w in weights]
        owners = [0] * big_channel_videos
        for creator, quota in zip(creators, _quotas(weights, n - big_channel_videos), strict=True):
            owners += [creator] * quota
        drafts = []
        for owner in owners:
            joined = self.user_ts[owner]
            created = joined + int(rng.random() * (_END_MS - _DAY_MS - joined))
            drafts.append((created, owner))
        drafts.sort()
        self.video_ts = [d[0] for d in drafts]
        self.video_owner = [d[1] for d in drafts]
        self.video_ids = [_uuid7(ms, rng) for ms in self.video_ts]
        self.video_published = [rng.random() < PUBLISHED_SHARE for _ in range(n)]
        # Views: Pareto with alpha < 1 has no mean: a handful of videos with millions of views,
        # a median in the tens. Drafts that were never public keep a few views (the owner's).
        self.video_views = [
            int(25 * (rng.paretovariate(0.9) - 1)) if published else rng.randint(0, 5)
            for published in self.video_published
        ]
        self.video_titles = [self._title() for _ in range(n)]
        self.published_videos = [i for i in range(n) if self.video_published[i]]
        self.hidden_videos = [i for i in range(n) if not self.video_published[i]]
        # Attention follows views, softened (likes grow slower than views) and floored.
        popularity = [math.sqrt(views) + 1 for views in self.video_views]
        self.published_cum = _cumulative(
            _with_floor([popularity[i] for i in self.published_videos], 0.3)
        )

    def _video_rows(self):
        rng = self.rng
        # (stored name, duration): a row's duration is that of the clip it points at.
        clips = [(self.media_names.get(n, n), self.clip_durations[n]) for n, _ in DEMO_VIDEO_FILES]
        thumbnails = [self.media_names.get(n, n) for n in DEMO_THUMBNAILS]
        for i, video_id in enumerate(self.video_ids):
            created = _dt(self.video_ts[i])
            title = " ".join(self.video_titles[i])
            description = self._sentences(rng.randint(8, 60), 5000) if rng.random() < 0.9 else ""
            video_file, duration = rng.choice(clips)
            yield (
                video_id,
                self.user_ids[self.video_owner[i]],
                title[0].upper() + title[1:],
                description,
                video_file,
                rng.choice(thumbnails),
                duration,
                self.video_views[i],
                "public" if self.video_published[i] else "private",
                created if self.video_published[i] else None,
                0,
                0,
                created,
                created,
            )

    def _pick_video(self, allow_hidden):
        """A video index: published by popularity, or (rarely) an unpublished one."""
        rng = self.rng
        if allow_hidden and self.hidden_videos and rng.random() < HIDDEN_TARGET_SHARE:
            return rng.choice(self.hidden_videos)
        position = bisect.bisect(self.published_cum, rng.random() * self.published_cum[-1])
        return self.published_videos[min(position, len(self.published_videos) - 1)]

    # --- pairs and events -----------------------------------------------------------------------

    def _pick_user(self):
        position = bisect.bisect(self.user_cum, self.rng.random() * self.user_cum[-1])
        return min(position, len(self.user_cum) - 1)

    def _after(self, *times):
        """A moment between the latest of ``times`` and the end of the window."""
        start = max(times)
        return start + int(self.rng.random() * (_END_MS - start))

    def _unique_pairs(self, target, capacity, draw, desc):
        """Up to ``target`` distinct (a, b) pairs from ``draw()``; never more than half of
        ``capacity`` (all possible pairs), and gives up after many duplicate draws in a row."""
        target = min(target, int(capacity * _MAX_PAIR_FILL))
        seen = set()
        pairs = []
        misses = 0
        while len(pairs) < target and misses < 10_000:
            pair = draw()
            if pair is None or pair in seen:
                misses += 1
                continue
            misses = 0
            seen.add(pair)
            pairs.append(pair)
        if len(pairs) < target:
            self.log(f"{desc}: stopped at {len(pairs)} of {target} (too many duplicates)")
        return pairs

    def _generate_comments(self):
        rng = self.rng
        events = []
        for _ in range(self.counts["comments"]):
            user = self._pick_user()
            video = self._pick_video(allow_hidden=True)
            events.append((self._after(self.user_ts[user], self.video_ts[video]), user, video))
        events.sort()
        self.comment_ts = [e[0] for e in events]
        self.comment_user = [e[1] for e in events]
        self.comment_video = [e[2] for e in events]
        self.comment_ids = [_uuid7(ms, rng) for ms in self.comment_ts]

    def _comment_rows(self):
        rng = self.rng
        for i, comment_id in enumerate(self.comment_ids):
            created = _dt(self.comment_ts[i])
            yield (
                comment_id,
                self.video_ids[self.comment_video[i]],
                self.user_ids[self.comment_user[i]],
                self._sentences(rng.randint(3, 30), 2000),
                self.comment_likes[i],
                created,
                created,
            )

    def _generate_tweets(self):
        rng = self.rng
        events = []
        for _ in range(self.counts["tweets"]):
            user = self._pick_user()
            events.append((self._after(self.user_ts[user]), user))
        events.sort()
        self.tweet_ts = [e[0] for e in events]
        self.tweet_user = [e[1] for e in events]
        self.tweet_ids = [_uuid7(ms, rng) for ms in self.tweet_ts]

    def _tweet_rows(self):
        rng = self.rng
        for i, tweet_id in enumerate(self.tweet_ids):
            created = _dt(self.tweet_ts[i])
            yield (
                tweet_id,
                self.user_ids[self.tweet_user[i]],
                self._sentences(rng.randint(3, 40), 280),
                self.tweet_likes[i],
                created,
                created,
            )

    def _generate_likes(self):
        n_users = len(self.user_ids)
        n_videos = len(self.video_ids)
        video_pairs = self._unique_pairs(
            self.counts["video_likes"],
            n_users * n_videos,
            lambda: (self._pick_user(), self._pick_video(allow_hidden=True)),
            "video likes",
        )
        n_comments = len(self.comment_ids)
        comment_pairs = []
        if n_comments:
            comment_pairs = self._unique_pairs(
                self.counts["comment_likes"],
                n_users * n_comments,
                lambda: (self._pick_user(), self.rng.randrange(n_comments)),
                "comment likes",
            )
        n_tweets = len(self.tweet_ids)
        tweet_pairs = []
        if n_tweets:
            tweet_pairs = self._unique_pairs(
                self.counts["tweet_likes"],
                n_users * n_tweets,
                lambda: (self._pick_user(), self.rng.randrange(n_tweets)),
                "tweet likes",
            )
        # (time, user, kind, target): kind 0 video, 1 comment, 2 tweet.
        events = [(self._after(self.user_ts[u], self.video_ts[v]), u, 0, v) for u, v in video_pairs]
        events += [
            (self._after(self.user_ts[u], self.comment_ts[c]), u, 1, c) for u, c in comment_pairs
        ]
        events += [
            (self._after(self.user_ts[u], self.tweet_ts[t]), u, 2, t) for u, t in tweet_pairs
        ]
        events.sort()
        self.like_events = events
        self.like_kind_counts = Counter(e[2] for e in events)
        # likes_count of each comment and tweet, written with the rows (videos are recounted).
        self.comment_likes = Counter(c for _, c in comment_pairs)
        self.tweet_likes = Counter(t for _, t in tweet_pairs)

    def _like_rows(self):
        rng = self.rng
        targets = (self.video_ids, self.comment_ids, self.tweet_ids)
        for ms, user, kind, target in self.like_events:
            ids = [None, None, None]
            ids[kind] = targets[kind][target]
            yield (_uuid7(ms, rng), self.user_ids[user], ids[0], ids[1], ids[2], _dt(ms))

    def _generate_subscriptions(self):
        n_users = len(self.user_ids)
        videos_per_user = Counter(self.video_owner)
        # Channels with videos attract subscribers; everybody keeps a small chance.
        channel_cum = _cumulative(
            _with_floor([1 + 5 * videos_per_user.get(i, 0) for i in range(n_users)], 0.2)
        )

        def draw():
            subscriber = self._pick_user()
            position = bisect.bisect(channel_cum, self.rng.random() * channel_cum[-1])
            channel = min(position, n_users - 1)
            return None if subscriber == channel else (subscriber, channel)

        pairs = self._unique_pairs(
            self.counts["subscriptions"], n_users * (n_users - 1), draw, "subscriptions"
        )
        self.subscription_events = sorted(
            (self._after(self.user_ts[s], self.user_ts[c]), s, c) for s, c in pairs
        )

    def _subscription_rows(self):
        rng = self.rng
        for ms, subscriber, channel in self.subscription_events:
            yield (_uuid7(ms, rng), self.user_ids[subscriber], self.user_ids[channel], _dt(ms))
        yield from self.feed_viewer_rows

    def _generate_feed_viewer(self):
        """The benchmark viewer's subscriptions: the big channel, then channels with videos (any
        user once those run out), up to ``FEED_VIEWER_CHANNELS`` x ``scale`` in all, counting
        those the viewer already has. Ids and times come from a generator of their own (seeded
        from ``seed``), so the rows drawn after these are the same as without them."""
        rng = random.Random(f"feed-viewer-{self.seed}")
        n_users = len(self.user_ids)
        viewer = min(range(1, n_users), key=lambda i: self.usernames[i])
        target = min(n_users - 1, max(1, round(FEED_VIEWER_CHANNELS * self.scale)))
        followed = {c for _, s, c in self.subscription_events if s == viewer}
        creators = sorted(set(self.video_owner) - {0, viewer})
        others = sorted(set(range(1, n_users)) - set(creators) - {viewer})
        candidates = [0, *rng.sample(creators, len(creators)), *rng.sample(others, len(others))]
        added = []
        for channel in candidates:
            if len(followed) >= target:
                break
            if channel not in followed:
                followed.add(channel)
                added.append(channel)
        self.feed_viewer = viewer
        self.feed_viewer_rows = []
        for channel in added:
            start = max(self.user_ts[viewer], self.user_ts[channel])
            ms = start + int(rng.random() * (_END_MS - start))
            self.feed_viewer_rows.append(
                (_uuid7(ms, rng), self.user_ids[viewer], self.user_ids[channel], _dt(ms))
            )

    def _generate_watch_history(self):
        n_users = len(self.user_ids)
        pairs = self._unique_pairs(
            self.counts["watch_history"],
            n_users * len(self.published_videos),
            lambda: (self._pick_user(), self._pick_video(allow_hidden=False)),
            "watch history",
        )
        self.watch_events = sorted(
            (self._after(self.user_ts[u], self.video_ts[v]), u, v) for u, v in pairs
        )

    def _watch_rows(self):
        rng = self.rng
        for ms, user, video in self.watch_events:
            yield (_uuid7(ms, rng), self.user_ids[user], self.video_ids[video], _dt(ms))

    def _generate_playlists(self):
        rng = self.rng
        events = []
        for _ in range(self.counts["playlists"]):
            user = self._pick_user()
            events.append((self._after(self.user_ts[user]), user))
        events.sort()
        self.playlist_ts = [e[0] for e in events]
        self.playlist_owner = [e[1] for e in events]
        self.playlist_ids = [_uuid7(ms, rng) for ms in self.playlist_ts]
        n_playlists = len(self.playlist_ids)
        # Some playlists are long, most are short.
        playlist_cum = _cumulative([rng.paretovariate(1.5) for _ in range(n_playlists)])

        def draw():
            position = bisect.bisect(playlist_cum, rng.random() * playlist_cum[-1])
            return (min(position, n_playlists - 1), self._pick_video(allow_hidden=False))

        pairs = self._unique_pairs(
            self.counts["playlist_entries"],
            n_playlists * len(self.published_videos),
            draw,
            "playlist entries",
        )
        self.entry_events = sorted(
            (self._after(self.playlist_ts[p], self.video_ts[v]), p, v) for p, v in pairs
        )

    def _playlist_rows(self):
        rng = self.rng
        for i, playlist_id in enumerate(self.playlist_ids):
            created = _dt(self.playlist_ts[i])
            name = " ".join(self._words(rng.randint(1, 4)))
            description = self._sentences(rng.randint(4, 20), 1000) if rng.random() < 0.5 else ""
            yield (
                playlist_id,
                self.user_ids[self.playlist_owner[i]],
                name[0].upper() + name[1:],
                description,
                created,
                created,
            )

    def _entry_rows(self):
        rng = self.rng
        for ms, playlist, video in self.entry_events:
            yield (_uuid7(ms, rng), self.playlist_ids[playlist], self.video_ids[video], _dt(ms))

    # --- media --------------------------------------------------------------------------------

    def _install_media(self):
        """Put the few shared demo files in the storages (once) and note the names they got.

        A storage may rename what it saves (Cloudinary answers with its own public id), so the
        rows use whatever name ``save`` returned. A file already present is left as it is.
        """
        installed = []
        for name, sample in DEMO_VIDEO_FILES:
            source = SAMPLE_MEDIA_DIR / sample
            installed.append(self._store(video_storage, name, source.read_bytes()))
        images = [(n, (320, 180)) for n in DEMO_THUMBNAILS]
        images += [(n, (96, 96)) for n in DEMO_AVATARS]
        images += [(n, (640, 160)) for n in DEMO_COVERS]
        for index, (name, size) in enumerate(images):
            installed.append(self._store(default_storage, name, _demo_png(index, size)))
        return installed

    def _store(self, storage, name, data):
        if storage.exists(name):
            self.media_names[name] = name
        else:
            self.media_names[name] = storage.save(name, ContentFile(data, name=name))
        return self.media_names[name]

    # --- the run ------------------------------------------------------------------------------

    def run(self):
        started = time.monotonic()
        # Before anything is written: a missing sample clip stops the run here.
        self.clip_durations = probe_demo_clips()
        media = self._install_media() if self.write_media else []
        self._prepare_text()
        self.log("Generating rows in memory...")
        self._generate_users()
        self.user_cum = _cumulative(_with_floor(self.user_activity, 0.2))
        self._generate_videos()
        self._generate_comments()
        self._generate_tweets()
        self._generate_likes()
        self._generate_subscriptions()
        self._generate_feed_viewer()
        self._generate_watch_history()
        self._generate_playlists()
        self.log(f"Generated in {time.monotonic() - started:.1f} s; loading...")

        with transaction.atomic():
            with _bulk_load_mode(self.log):
                self._load()
            # With the indexes back: each counter's recount reads the rows of one target through
            # its foreign key's index (without them, a scan of the whole table per target).
            stage = time.monotonic()
            _recount_counters()
            self.log(f"Counters recomputed in {time.monotonic() - stage:.1f} s")
        if connection.vendor == "postgresql" and connection.get_autocommit():
            # Fresh statistics, so the first queries against the new data get sane plans, and
            # the visibility map set, so index-only scans (list counts, deep pages, dashboard
            # sums) need not visit the table. VACUUM cannot run inside a transaction; a caller
            # that holds one (tests) gets ANALYZE only.
            statement = "VACUUM (ANALYZE)"
        else:
            statement = "ANALYZE"
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (User, *SEEDED_MODELS):
                    table = connection.ops.quote_name(model._meta.db_table)
                    cursor.execute(f"{statement} {table}")
        result = self._summary()
        result.media = media
        result.seconds = time.monotonic() - started
        return result

    def _load(self):
        write = self.writer.write
        write(
            User,
            (
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "email",
                "fullname",
                "avatar",
                "cover_image",
                "is_active",
                "is_staff",
                "subscribers_count",
                "subscriptions_count",
                "created_at",
                "updated_at",
            ),
            self._user_rows(),
            len(self.user_ids),
            "users",
        )
        write(
            Video,
            (
                "id",
                "owner_id",
                "title",
                "description",
                "video_file",
                "thumbnail",
                "duration",
                "views",
                "visibility",
                "published_at",
                "likes_count",
                "comments_count",
                "created_at",
                "updated_at",
            ),
            self._video_rows(),
            len(self.video_ids),
            "videos",
        )
        write(
            Comment,
            ("id", "video_id", "author_id", "content", "likes_count", "created_at", "updated_at"),
            self._comment_rows(),
            len(self.comment_ids),
            "comments",
        )
        write(
            Tweet,
            ("id", "author_id", "content", "likes_count", "created_at", "updated_at"),
            self._tweet_rows(),
            len(self.tweet_ids),
            "tweets",
        )
        write(
            Like,
            ("id", "user_id", "video_id", "comment_id", "tweet_id", "created_at"),
            self._like_rows(),
            len(self.like_events),
            "likes",
        )
        write(
            Subscription,
            ("id", "subscriber_id", "channel_id", "created_at"),
            self._subscription_rows(),
            len(self.subscription_events) + len(self.feed_viewer_rows),
            "subscriptions",
        )
        write(
            WatchHistory,
            ("id", "user_id", "video_id", "watched_at"),
            self._watch_rows(),
            len(self.watch_events),
            "watch history",
        )
        write(
            Playlist,
            ("id", "owner_id", "name", "description", "created_at", "updated_at"),
            self._playlist_rows(),
            len(self.playlist_ids),
            "playlists",
        )
        write(
            PlaylistVideo,
            ("id", "playlist_id", "video_id", "added_at"),
            self._entry_rows(),
            len(self.entry_events),
            "playlist entries",
        )

    def _summary(self):
        counts = {
            "users": User.objects.count(),
            "videos": Video.objects.count(),
            "published_videos": Video.objects.filter(listed_videos_q()).count(),
            "video_likes": Like.objects.filter(video__isnull=False).count(),
            "comment_likes": Like.objects.filter(comment__isnull=False).count(),
            "tweet_likes": Like.objects.filter(tweet__isnull=False).count(),
            "comments": Comment.objects.count(),
            "subscriptions": Subscription.objects.count(),
            "watch_history": WatchHistory.objects.count(),
            "playlists": Playlist.objects.count(),
            "playlist_entries": PlaylistVideo.objects.count(),
            "tweets": Tweet.objects.count(),
        }
        big = User.objects.get(username=BIG_CHANNEL_USERNAME)
        big_videos = Video.objects.filter(owner=big).count()
        # Published ones: the benchmark reads them anonymously (an unpublished video is a 404).
        published = Video.objects.filter(listed_videos_q())
        top_commented = published.order_by("-comments_count", "id").first()
        top_viewed = published.order_by("-views", "id").first()
        return SeedResult(
            seed=self.seed,
            scale=self.scale,
            counts=counts,
            big_channel={
                "username": big.username,
                "id": str(big.id),
                "videos": big_videos,
                "share": round(big_videos / max(1, counts["videos"]), 4),
                "subscribers": big.subscribers_count,
            },
            most_commented_video={
                "id": str(top_commented.id),
                "title": top_commented.title,
                "comments": top_commented.comments_count,
                "is_published": top_commented.is_published,
            },
            most_viewed_video={
                "id": str(top_viewed.id),
                "title": top_viewed.title,
                "views": top_viewed.views,
            },
            search_word=self._search_word(),
            feed_viewer=self._feed_viewer_summary(),
        )

    def _feed_viewer_summary(self):
        viewer = User.objects.get(pk=self.user_ids[self.feed_viewer])
        return {
            "username": viewer.username,
            "id": str(viewer.pk),
            "subscriptions": viewer.subscriptions_count,
        }

    def _search_word(self):
        """The vocabulary word in the share of published titles closest to
        ``SEARCH_WORD_TITLE_SHARE`` (what ``GET /videos?query=`` searches)."""
        in_titles = Counter()
        for index in self.published_videos:
            in_titles.update(set(self.video_titles[index]))
        total = max(1, len(self.published_videos))
        word = min(
            sorted(in_titles),
            key=lambda w: abs(in_titles[w] / total - SEARCH_WORD_TITLE_SHARE),
        )
        return {
            "word": word,
            "published_titles": in_titles[word],
            "title_share": round(in_titles[word] / total, 4),
        }


@contextlib.contextmanager
def _bulk_load_mode(log):
    """On PostgreSQL, load without foreign keys and secondary indexes, then put them back.

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: every COPYed row queues one check
    per key, run one by one at COMMIT (minutes for two million rows); adding a key back checks
    the whole table in one join instead. Likewise an index built once over the loaded table is
    much cheaper than two million single inserts into it. Primary keys and unique constraints
    stay; the partial unique indexes (one like per user and target) are rebuilt, which checks
    them. Everything happens inside the load's transaction: a failure restores the schema, a row
    that breaks a rule fails the load.
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [m._meta.db_table for m in (User, *SEEDED_MODELS)]
    with connection.cursor() as cursor:
        # regclass::text is already quoted where needed.
        cursor.execute(
            "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])"
            " ORDER BY 1, 2",
            [tables],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
            " ORDER BY 1",
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    log(
        f"Rebuilt {len(indexes)} indexes and checked {len(foreign_keys)} foreign keys "
        f"in {time.monotonic() - started:.1f} s"
    )


def _recount_counters():
    """Set every denormalised counter from the rows, through the one counter module."""
    for model in counters.COUNTERS:
        counters.recount(model.objects.all())
    counters.recount_catalog()


def _demo_png(index, size):
    """A small, recognisable PNG (a colour band and a circle) for thumbnails and avatars."""
    palette = [
        (231, 76, 60),
        (52, 152, 219),
        (46, 204, 113),
        (155, 89, 182),
        (241, 196, 15),
        (26, 188, 156),
        (230, 126, 34),
        (52, 73, 94),
    ]
    color = palette[index % len(palette)]
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    width, height = size
    radius = min(width, height) // 3
    center = (width // 2, height // 2)
    draw.ellipse(
        (center[0] - radius, center[1] - radius, center[0] + radius, center[1] + radius),
        fill=(255, 255, 255),
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def seed_demo_data(*, seed, scale, progress_factory=None, write_media=True, log=None):
    """Fill an empty database with the demo data set and return its ``SeedResult``.

    Raises ``DatabaseNotEmpty`` when VizTube rows exist already (flush them first with
    ``flush_demo_tables``). Everything is loaded in one transaction: a failure leaves no row.
    """
    existing = existing_row_counts()
    if existing:
        raise DatabaseNotEmpty(existing)
    seeder = DemoSeeder(
        seed=seed,
        scale=scale,
        progress_factory=progress_factory,
        write_media=write_media,
        log=log,
    )
    return seeder.run()
