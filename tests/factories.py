"""factory-boy factories for every model. Media fields hold names only (no file is written);
tests that are about files upload real ones through the API."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone as django_timezone

from media.models import UploadSession
from playlists.models import Playlist, PlaylistVideo
from social.models import Comment, Like, Subscription, Tweet
from videos.models import Video, WatchHistory

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    fullname = factory.Faker("name")
    avatar = factory.LazyAttribute(lambda u: f"avatars/{u.username}.png")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class VideoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Video

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Video number {n}")
    description = "A video about things."
    video_file = factory.Sequence(lambda n: f"videos/video{n}.mp4")
    thumbnail = factory.Sequence(lambda n: f"thumbnails/thumb{n}.png")
    duration = 12.5
    # ``is_published=False`` (the original API's flag) still reads well in tests: private.
    visibility = factory.LazyAttribute(lambda o: "public" if o.is_published else "private")
    status = "ready"
    # A failed video carries its reason (a CHECK constraint ties them).
    failure_reason = factory.LazyAttribute(
        lambda o: "The file is not a video we can read" if o.status == "failed" else None
    )
    published_at = factory.LazyAttribute(
        lambda o: (
            django_timezone.now() if o.visibility == "public" and o.status == "ready" else None
        )
    )

    class Params:
        is_published = True


class WatchHistoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WatchHistory

    user = factory.SubFactory(UserFactory)
    video = factory.SubFactory(VideoFactory)
    watched_at = factory.Faker("date_time_this_year", tzinfo=__import__("datetime").UTC)


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    video = factory.SubFactory(VideoFactory)
    author = factory.SubFactory(UserFactory)
    content = factory.Sequence(lambda n: f"Comment {n}")


class TweetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tweet

    author = factory.SubFactory(UserFactory)
    content = factory.Sequence(lambda n: f"Tweet {n}")


class LikeFactory(factory.django.DjangoModelFactory):
    """Creates the row only; counters are the services' job (use the API or services to test them)."""

    class Meta:
        model = Like

    user = factory.SubFactory(UserFactory)


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    subscriber = factory.SubFactory(UserFactory)
    channel = factory.SubFactory(UserFactory)


class PlaylistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Playlist

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Playlist {n}")
    description = ""


class PlaylistVideoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaylistVideo

    playlist = factory.SubFactory(PlaylistFactory)
    video = factory.SubFactory(VideoFactory)


class UploadSessionFactory(factory.django.DjangoModelFactory):
    """An open session holding no bytes yet (local media); tests that are about bytes send them
    through the API."""

    class Meta:
        model = UploadSession

    owner = factory.SubFactory(UserFactory)
    filename = "clip.mp4"
    content_type = "video/mp4"
    size = 1000
    expires_at = factory.LazyFunction(lambda: django_timezone.now() + timedelta(hours=24))
