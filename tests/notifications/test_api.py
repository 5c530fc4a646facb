"""``GET /notifications``, ``POST /notifications/read`` and ``/notifications/settings``."""

import datetime

import pytest
from django.utils import timezone

from notifications.models import Notification, NotificationSettings
from tests.factories import CommentFactory, TweetFactory, UserFactory, VideoFactory
from tests.notifications.conftest import NOTIFICATIONS, READ, SETTINGS, client_of
from tests.shapes import iso, media_url, person

pytestmark = pytest.mark.django_db


def notify(recipient, type_="channelSubscribed", actor=None, at=None, **subject):
    return Notification.objects.create(
        recipient=recipient,
        type=type_,
        actor=actor or UserFactory(),
        created_at=at or timezone.now(),
        **subject,
    )


def page(client, **params):
    response = client.get(NOTIFICATIONS, params)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def error(response, status):
    body = response.json()
    assert response.status_code == status, body
    assert (body["statusCode"], body["success"], body["data"]) == (status, False, None)
    assert body["errors"]
    return body


# --- The list --------------------------------------------------------------------------------


def test_every_type_in_its_shape(user):
    channel = UserFactory()
    video = VideoFactory(owner=channel)
    long_comment = CommentFactory(video=video, author=UserFactory(), content="é" * 150)
    mine = VideoFactory(owner=user)
    on_mine = CommentFactory(video=mine, author=UserFactory())
    tweet = TweetFactory(author=channel, content="t" * 280)
    start = timezone.now() - datetime.timedelta(minutes=10)
    made = [
        notify(user, "videoPublished", channel, start, video=video),
        notify(user, "tweetPosted", channel, start + datetime.timedelta(minutes=1), tweet=tweet),
        notify(
            user,
            "videoCommented",
            on_mine.author,
            start + datetime.timedelta(minutes=2),
            comment=on_mine,
        ),
        notify(
            user,
            "commentHearted",
            channel,
            start + datetime.timedelta(minutes=3),
            comment=long_comment,
        ),
        notify(user, "channelSubscribed", channel, start + datetime.timedelta(minutes=4)),
    ]
    made[0].is_read = True
    made[0].save()

    def video_of(target):
        return {
            "id": str(target.pk),
            "title": target.title,
            "thumbnailUrl": media_url(target.thumbnail.name),
        }

    def base(notification, actor, is_read=False):
        return {
            "id": str(notification.pk),
            "type": notification.type,
            "createdAt": iso(notification.created_at),
            "isRead": is_read,
            "actor": person(actor),
        }

    expected = [
        base(made[4], channel),
        {
            **base(made[3], channel),
            "video": video_of(video),
            "comment": {"id": str(long_comment.pk), "content": "é" * 100},
        },
        {
            **base(made[2], on_mine.author),
            "video": video_of(mine),
            "comment": {"id": str(on_mine.pk), "content": on_mine.content},
        },
        {**base(made[1], channel), "tweet": {"id": str(tweet.pk), "content": "t" * 100}},
        {**base(made[0], channel, is_read=True), "video": video_of(video)},
    ]
    data = page(client_of(user))
    assert data == {"docs": expected, "limit": 10, "nextCursor": None, "unreadCount": 4}
    assert page(client_of(user), unread="true")["docs"] == expected[:4]
    assert page(client_of(user), unread="false")["docs"] == expected


def test_others_see_none_of_mine_and_anonymous_is_401(user, other_user, api_client):
    notify(user)
    assert page(client_of(other_user)) == {
        "docs": [],
        "limit": 10,
        "nextCursor": None,
        "unreadCount": 0,
    }
    error(api_client.get(NOTIFICATIONS), 401)
    error(api_client.post(READ, {"all": True}, format="json"), 401)
    error(api_client.get(SETTINGS), 401)


def test_a_notification_about_a_video_the_recipient_can_no_longer_see_is_left_out(user):
    video = VideoFactory()
    comment = CommentFactory(video=video, author=UserFactory())
    notify(user, "videoPublished", video.owner, video=video)
    notify(user, "commentHearted", video.owner, comment=comment)
    unlisted = VideoFactory(visibility="unlisted")
    notify(user, "videoPublished", unlisted.owner, video=unlisted)
    assert (len(page(client_of(user))["docs"]), page(client_of(user))["unreadCount"]) == (3, 3)
    video.visibility = "private"
    video.save()
    data = page(client_of(user))
    assert [doc["video"]["id"] for doc in data["docs"]] == [str(unlisted.pk)]
    assert data["unreadCount"] == 1
    video.visibility = "public"
    video.save()
    assert page(client_of(user))["unreadCount"] == 3


def test_a_cursor_walk_shows_each_notification_once_newest_first(user):
    start = timezone.now() - datetime.timedelta(hours=1)
    made = [notify(user, at=start + datetime.timedelta(seconds=i // 2)) for i in range(25)]
    client = client_of(user)
    seen, cursor = [], None
    while True:
        data = page(client, limit=10, **({"cursor": cursor} if cursor else {}))
        seen += [doc["id"] for doc in data["docs"]]
        # Added during the walk: not in its later pages.
        notify(user)
        cursor = data["nextCursor"]
        if cursor is None:
            break
    expected = sorted(made, key=lambda n: (n.created_at, n.pk), reverse=True)
    assert seen == [str(n.pk) for n in expected]


def test_bad_list_parameters_are_400(user, other_user):
    notify(user)
    notify(user)
    first = page(client_of(user), limit=1)
    client = client_of(user)
    error(client.get(NOTIFICATIONS, {"limit": 101}), 400)
    error(client.get(NOTIFICATIONS, {"limit": 0}), 400)
    error(client.get(NOTIFICATIONS, {"unread": "yes"}), 400)
    error(client.get(NOTIFICATIONS, {"cursor": "garbage"}), 400)
    # Another user's cursor, or the feed's, is not one of this list.
    error(client_of(other_user).get(NOTIFICATIONS, {"cursor": first["nextCursor"]}), 400)
    assert client.get(NOTIFICATIONS, {"cursor": first["nextCursor"]}).status_code == 200


@pytest.mark.parametrize("count", [3, 12])
def test_query_budget_does_not_grow_with_the_page(user, django_assert_num_queries, count):
    channel = UserFactory()
    for _ in range(count):
        video = VideoFactory(owner=channel)
        notify(user, "videoPublished", channel, video=video)
        notify(user, "commentReplied", channel, comment=CommentFactory(video=video))
        notify(user, "tweetPosted", channel, tweet=TweetFactory(author=channel))
    client = client_of(user)
    # 1 the caller's user row (cached by this request), 2 the page with its actors, videos,
    # comments with their videos and tweets (one query), 3 the unread count (at most 100 rows
    # of the unread index).
    with django_assert_num_queries(3):
        data = page(client, limit=100)
    assert len(data["docs"]) == count * 3
    assert data["unreadCount"] == count * 3


def test_the_unread_count_stops_at_100(user):
    actor = UserFactory()
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            recipient=user, type="videoPublished", actor=actor, video=video, created_at=now
        )
        for video in VideoFactory.create_batch(103, owner=actor)
    )
    assert page(client_of(user), limit=1)["unreadCount"] == 100
    Notification.objects.filter(
        pk__in=Notification.objects.order_by("created_at", "id").values("pk")[:4]
    ).update(is_read=True)
    assert page(client_of(user), limit=1)["unreadCount"] == 99


# --- Marking read ----------------------------------------------------------------------------


def test_marking_some_read_ignores_ids_that_are_not_mine(user, other_user, pushed):
    mine = [notify(user) for _ in range(3)]
    theirs = notify(other_user)
    client = client_of(user)
    response = client.post(
        READ,
        {"ids": [str(mine[0].pk), str(theirs.pk), "01a252ee-e9cf-73a6-981d-9683830222d0"]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"unreadCount": 2}
    assert set(Notification.objects.filter(is_read=True).values_list("pk", flat=True)) == {
        mine[0].pk
    }
    # Only foreign ids: nothing changes, the count is still right.
    response = client.post(READ, {"ids": [str(theirs.pk)]}, format="json")
    assert response.json()["data"] == {"unreadCount": 2}
    assert Notification.objects.filter(is_read=True).count() == 1


def test_marking_all_read(user, other_user, django_capture_on_commit_callbacks, pushed):
    for _ in range(3):
        notify(user)
    notify(other_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_of(user).post(READ, {"all": True}, format="json")
    assert response.json()["data"] == {"unreadCount": 0}
    assert page(client_of(user))["unreadCount"] == 0
    assert page(client_of(other_user))["unreadCount"] == 1
    assert pushed.counts == [(user.pk, 0)]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": []},
        {"ids": ["not-an-id"]},
        {"ids": [123]},
        {"ids": "01a252ee-e9cf-73a6-981d-9683830222d0"},
        {"all": False},
        {"all": "true"},
        {"all": True, "ids": ["01a252ee-e9cf-73a6-981d-9683830222d0"]},
        {"ids": ["01a252ee-e9cf-73a6-981d-9683830222d0"] * 101},
    ],
)
def test_bad_read_bodies_are_422_and_change_nothing(user, body):
    made = notify(user)
    response = client_of(user).post(READ, body, format="json")
    error(response, 422)
    made.refresh_from_db()
    assert made.is_read is False


def test_a_read_body_that_is_not_json_is_400_and_a_form_is_415(user):
    notify(user)
    client = client_of(user)
    error(client.post(READ, "{", content_type="application/json"), 400)
    error(client.post(READ, {"all": "true"}, format="multipart"), 415)
    error(
        client.patch(
            SETTINGS, "tweetPosted=false", content_type="application/x-www-form-urlencoded"
        ),
        415,
    )
    assert Notification.objects.filter(is_read=False).count() == 1
    assert not NotificationSettings.objects.exists()


# --- Settings --------------------------------------------------------------------------------

DEFAULTS = {
    "videoPublished": True,
    "tweetPosted": True,
    "videoCommented": True,
    "commentReplied": True,
    "channelSubscribed": True,
    "commentHearted": True,
}


def test_settings_default_to_every_type_and_change_one_at_a_time(user):
    client = client_of(user)
    assert client.get(SETTINGS).json()["data"] == DEFAULTS
    assert not NotificationSettings.objects.exists()
    response = client.patch(SETTINGS, {"tweetPosted": False}, format="json")
    assert response.status_code == 200
    assert response.json()["data"] == {**DEFAULTS, "tweetPosted": False}
    response = client.patch(SETTINGS, {"commentHearted": False, "tweetPosted": True}, format="json")
    assert response.json()["data"] == {**DEFAULTS, "commentHearted": False}
    assert client.get(SETTINGS).json()["data"] == {**DEFAULTS, "commentHearted": False}
    assert client_of(UserFactory()).get(SETTINGS).json()["data"] == DEFAULTS


@pytest.mark.parametrize(
    "body",
    [{}, {"tweetPosted": "no"}, {"tweetPosted": 0}, {"tweetPosted": None}, {"unknown": False}],
)
def test_bad_settings_are_422_and_change_nothing(user, body):
    NotificationSettings.objects.create(user=user, video_published=False)
    response = client_of(user).patch(SETTINGS, body, format="json")
    error(response, 422)
    assert client_of(user).get(SETTINGS).json()["data"] == {**DEFAULTS, "videoPublished": False}


def test_the_live_side_reads_notifications_by_id_in_the_api_shape(user, other_user):
    from notifications.selectors import notifications_by_ids
    from notifications.serializers import NotificationSerializer

    video = VideoFactory()
    shown = notify(user, "videoPublished", video.owner, video=video)
    theirs = notify(other_user)
    hidden_video = VideoFactory()
    hidden = notify(other_user, "videoPublished", hidden_video.owner, video=hidden_video)
    hidden_video.visibility = "private"
    hidden_video.save()
    found = notifications_by_ids([shown.pk, theirs.pk, hidden.pk])
    assert [n.pk for n in found] == [theirs.pk, shown.pk]  # newest first
    assert {n.recipient_id for n in found} == {user.pk, other_user.pk}
    data = NotificationSerializer(found, many=True).data
    assert {doc["id"] for doc in data} == {str(shown.pk), str(theirs.pk)}
