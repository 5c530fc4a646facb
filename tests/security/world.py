"""The cast and objects every security test works with .

``owner`` (A) owns a published and an unpublished video (with real media files), a comment on
each, a video whose processing failed (real media files too), a tweet, a playlist holding the published video and a private playlist holding it too,
and an upload session of 10 bytes;
``other`` (B) and ``staff``
(``is_staff=True``) own nothing of A's; ``anon`` sends no credentials. Each signed-in role also
has a playlist of its own, so "add to *my* playlist" cases can name the caller's playlist.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from media.models import UploadSession
from notifications.models import Notification, NotificationSettings
from playlists.models import Playlist, PlaylistVideo
from social.models import Comment, Like, Subscription, Tweet
from tests.conftest import files_under, tokens_for
from tests.factories import (
    CommentFactory,
    PlaylistFactory,
    PlaylistVideoFactory,
    SubscriptionFactory,
    TweetFactory,
    UploadSessionFactory,
    UserFactory,
    VideoFactory,
    WatchHistoryFactory,
)
from videos.models import Video, WatchHistory

ROLES = ("owner", "other", "anon", "staff")
SIGNED_IN = ("owner", "other", "staff")
# Every table an API write can touch: a denied request must leave all of them as they were.
MODELS = (
    get_user_model(),
    Video,
    WatchHistory,
    Comment,
    Tweet,
    Like,
    Subscription,
    Playlist,
    PlaylistVideo,
    BlacklistedToken,
    UploadSession,
    Notification,
    NotificationSettings,
)


def with_media(video):
    """Write the video's two files, so a test can see whether a request deleted them."""
    storages["videos"].save(video.video_file.name, ContentFile(b"video bytes"))
    default_storage.save(video.thumbnail.name, ContentFile(b"thumbnail bytes"))
    return video


@dataclass
class World:
    users: dict
    tokens: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)

    def client(self, role):
        client = APIClient()
        if role != "anon":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.tokens[role][0]}")
        return client

    def refresh_token(self, role):
        """The caller's refresh token (anonymous callers present the owner's)."""
        return self.tokens["owner" if role == "anon" else role][1]

    def __getitem__(self, name):
        return self.objects[name]


def build_world():
    owner = UserFactory(fullname="Owner Person")
    other = UserFactory(fullname="Other Person")
    staff = UserFactory(fullname="Staff Person", is_staff=True)
    third = UserFactory(fullname="Third Person")
    world = World(users={"owner": owner, "other": other, "staff": staff, "third": third})
    world.tokens = {role: tokens_for(world.users[role]) for role in SIGNED_IN}

    published = with_media(VideoFactory(owner=owner, title="Owner published"))
    unpublished = with_media(VideoFactory(owner=owner, title="Owner draft", is_published=False))
    failed = with_media(VideoFactory(owner=owner, title="Owner failed", status="failed"))
    other_video = VideoFactory(owner=other, title="Other published")
    third_video = VideoFactory(owner=third, title="Third published")
    playlist = PlaylistFactory(owner=owner, name="Owner list")
    PlaylistVideoFactory(playlist=playlist, video=published)
    private_playlist = PlaylistFactory(owner=owner, name="Owner secrets", visibility="private")
    PlaylistVideoFactory(playlist=private_playlist, video=published)
    WatchHistoryFactory(user=owner, video=published)
    SubscriptionFactory(subscriber=other, channel=owner)
    world.objects = {
        "owner": owner,
        "other": other,
        "published": published,
        "unpublished": unpublished,
        "failed": failed,
        "third_video": third_video,
        "comment": CommentFactory(video=published, author=owner),
        "hidden_comment": CommentFactory(video=unpublished, author=owner),
        "others_comment_on_owners_video": CommentFactory(video=published, author=other),
        "owners_comment_on_others_video": CommentFactory(video=other_video, author=owner),
        "tweet": TweetFactory(author=owner),
        "playlist": playlist,
        "private_playlist": private_playlist,
        "playlist_of_owner": playlist,
        "playlist_of_other": PlaylistFactory(owner=other),
        "playlist_of_staff": PlaylistFactory(owner=staff),
        "upload": UploadSessionFactory(owner=owner, size=10),
    }
    return world


def db_state():
    """Every row of every table the API writes, to compare before and after a request."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}


def media_state(settings):
    return files_under(settings.MEDIA_ROOT)
