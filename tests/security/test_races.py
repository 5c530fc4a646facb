"""Authorization under concurrency (live server, real transactions, requests released together
by a ``threading.Barrier``): the owner's delete racing other people's writes on the same video,
and the owner's unpublish racing another user's like, comment, playlist add and edit. No answer
is a 500, the denied ones are 403 (visible) or 404 (gone or hidden), and the final rows agree
with the answers.
"""

import pytest
from django.conf import settings

from playlists.models import PlaylistVideo
from social.models import Comment, Like
from tests.conftest import files_under, tokens_for
from tests.factories import PlaylistFactory, UserFactory, VideoFactory
from tests.security.world import with_media
from tests.social.test_races import fire
from videos.models import Video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
TRIALS = 5


def test_the_owners_delete_racing_others_writes(live_server):
    owner, other, staff = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    a, b, s = (tokens_for(user)[0] for user in (owner, other, staff))
    for _ in range(TRIALS):
        video = with_media(VideoFactory(owner=owner))
        url = f"/api/v1/videos/{video.pk}"
        results = fire(
            live_server,
            [
                ("DELETE", url, a, None),
                ("DELETE", url, b, None),
                ("DELETE", url, s, None),
                ("PATCH", url, b, {"title": "Taken over"}),
                ("PATCH", url, s, {"title": "Taken over"}),
                ("PATCH", f"/api/v1/videos/toggle/publish/{video.pk}", b, None),
            ],
        )
        statuses = [status for status, _ in results]
        assert statuses[0] == 200, results
        assert all(status in (403, 404) for status in statuses[1:]), results
        assert not Video.objects.filter(pk=video.pk).exists()
        assert files_under(settings.MEDIA_ROOT) == []


def test_unpublishing_racing_another_users_writes(live_server):
    owner, other = UserFactory(), UserFactory()
    a, b = tokens_for(owner)[0], tokens_for(other)[0]
    playlist = PlaylistFactory(owner=other)
    for _ in range(TRIALS):
        video = VideoFactory(owner=owner, title="Original")
        results = fire(
            live_server,
            [
                ("PATCH", f"/api/v1/videos/toggle/publish/{video.pk}", a, None),
                ("POST", f"/api/v1/likes/toggle/v/{video.pk}", b, None),
                ("POST", f"/api/v1/comments/{video.pk}", b, {"content": "First!"}),
                ("POST", f"/api/v1/playlist/{playlist.pk}/{video.pk}", b, None),
                ("PATCH", f"/api/v1/videos/{video.pk}", b, {"title": "Taken over"}),
            ],
        )
        toggle, like, comment, add, edit = (status for status, _ in results)
        assert toggle == 200, results
        assert like in (200, 404) and comment in (201, 404) and add in (200, 404), results
        assert edit in (403, 404), results
        video.refresh_from_db()
        assert (video.is_published, video.title) == (False, "Original")
        # Every write B was told succeeded is there, and nothing he was refused.
        assert Like.objects.filter(video=video, user=other).exists() is (like == 200)
        assert Comment.objects.filter(video=video, author=other).exists() is (comment == 201)
        assert PlaylistVideo.objects.filter(video=video).exists() is (add == 200)
        assert video.likes_count == Like.objects.filter(video=video).count()
        assert video.comments_count == Comment.objects.filter(video=video).count()
