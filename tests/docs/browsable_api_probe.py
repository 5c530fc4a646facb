"""Run in a subprocess with DEBUG=1 (renderer classes are fixed when views are imported):
requests every GET route of the API as HTML, as a signed-in owner, and prints one JSON line
``{path: status}`` plus the paths whose HTML lacked the browsable API's markers."""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "viztube.settings")
sys.path.insert(0, os.getcwd())
django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from tests.docs.test_schema import api_routes  # noqa: E402
from tests.factories import (  # noqa: E402
    CommentFactory,
    PlaylistVideoFactory,
    SubscriptionFactory,
    TweetFactory,
    UploadSessionFactory,
    UserFactory,
)

call_command("migrate", verbosity=0)
owner = UserFactory()
other = UserFactory()
entry = PlaylistVideoFactory(playlist__owner=owner, video__owner=owner)
comment = CommentFactory(video=entry.video, author=owner)
tweet = TweetFactory(author=owner)
SubscriptionFactory(subscriber=other, channel=owner)
values = {
    "video_id": entry.video.pk,
    "playlist_id": entry.playlist.pk,
    "comment_id": comment.pk,
    "tweet_id": tweet.pk,
    "user_id": owner.pk,
    "channel_id": owner.pk,
    "subscriber_id": other.pk,
    "username": owner.username,
    "upload_id": UploadSessionFactory(owner=owner).pk,
}
client = Client(
    HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(owner).access_token}"
)
statuses, unmarked = {}, []
for template, method in sorted(api_routes()):
    if method != "get":
        continue
    path = template.format(**values)
    response = client.get(path, HTTP_ACCEPT="text/html")
    statuses[path] = response.status_code
    if b"<html" not in response.content or b"rest_framework" not in response.content:
        unmarked.append(path)
print(json.dumps({"statuses": statuses, "unmarked": unmarked}))
