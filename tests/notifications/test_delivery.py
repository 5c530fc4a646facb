"""When each type of notification is delivered, and when it never is: through the API (and
the services where a rule is easier to state there), with the deliveries run as a worker would
run them after the commit (``delivered``)."""

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications import services, tasks
from notifications.models import Notification, NotificationSettings
from social.models import Comment
from tests.conftest import video_upload
from tests.factories import (
    CommentFactory,
    SubscriptionFactory,
    TweetFactory,
    UserFactory,
    VideoFactory,
)
from tests.notifications.conftest import client_of, rows, subscribers_of
from videos import services as video_services
from videos.models import Video

pytestmark = pytest.mark.django_db

VIDEOS = "/api/v1/videos"


def published_to(video):
    return set(
        Notification.objects.filter(type="videoPublished", video=video).values_list(
            "recipient_id", flat=True
        )
    )


# --- videoPublished --------------------------------------------------------------------------


def test_publishing_a_public_video_notifies_every_subscriber_and_nobody_else(channel, delivered):
    subscribers = subscribers_of(channel, 3)
    stranger = UserFactory()
    SubscriptionFactory(subscriber=channel, channel=stranger)  # the channel follows someone
    with delivered():
        response = client_of(channel).post(
            VIDEOS,
            {"title": "New", "videoFile": video_upload("sample.mp4", "video/mp4")},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    video = Video.objects.get(pk=response.json()["data"]["id"])
    assert rows() == {
        (subscriber.pk, "videoPublished", channel.pk, video.pk, None, None)
        for subscriber in subscribers
    }


def test_a_private_video_made_public_by_the_toggle_notifies_once(channel, delivered):
    subscriber = subscribers_of(channel, 1)[0]
    video = VideoFactory(owner=channel, is_published=False)
    owner = client_of(channel)
    toggle = f"{VIDEOS}/toggle/publish/{video.pk}"
    with delivered():
        assert owner.patch(toggle).status_code == 200
    assert published_to(video) == {subscriber.pk}
    # Hidden and shown again: the video was published already, nobody hears of it twice.
    with delivered():
        assert owner.patch(toggle).status_code == 200
        assert owner.patch(toggle).status_code == 200
    assert Notification.objects.count() == 1


def test_unlisted_and_private_videos_notify_nobody_until_they_are_made_public(channel, delivered):
    subscriber = subscribers_of(channel, 1)[0]
    owner = client_of(channel)
    video = VideoFactory(owner=channel, is_published=False)
    with delivered():
        response = owner.patch(f"{VIDEOS}/{video.pk}", {"visibility": "unlisted"}, format="json")
    assert response.status_code == 200
    assert published_to(video) == set()
    with delivered():
        response = owner.patch(f"{VIDEOS}/{video.pk}", {"visibility": "public"}, format="json")
    assert response.status_code == 200
    assert published_to(video) == {subscriber.pk}


def test_a_processing_video_notifies_when_it_becomes_ready(channel, delivered):
    subscriber = subscribers_of(channel, 1)[0]
    video = VideoFactory(owner=channel, status="processing", visibility="public")
    with delivered():
        # A public video still processing is listed nowhere: nothing to tell yet.
        video_services.video_mark_failed(video_id=video.pk, reason="The bytes were unreadable")
    assert published_to(video) == set()
    with delivered():
        video_services.video_mark_ready(video_id=video.pk, duration=3.0)
    assert published_to(video) == {subscriber.pk}
    with delivered():
        video_services.video_mark_ready(video_id=video.pk, duration=3.0)  # a repeat
    assert Notification.objects.count() == 1


def test_a_scheduled_video_notifies_when_the_job_makes_it_public(channel, delivered):
    subscriber = subscribers_of(channel, 1)[0]
    video = VideoFactory(owner=channel, is_published=False)
    Video.objects.filter(pk=video.pk).update(
        publish_at=timezone.now() + datetime.timedelta(hours=1)
    )
    with delivered():
        assert video_services.videos_publish_due() == 0
    assert published_to(video) == set()
    Video.objects.filter(pk=video.pk).update(
        publish_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with delivered():
        assert video_services.videos_publish_due() == 1
    assert published_to(video) == {subscriber.pk}


def test_a_scheduled_video_still_processing_at_its_time_notifies_when_ready(channel, delivered):
    subscriber = subscribers_of(channel, 1)[0]
    video = VideoFactory(owner=channel, status="processing", visibility="private")
    Video.objects.filter(pk=video.pk).update(
        publish_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with delivered():
        assert video_services.videos_publish_due() == 0  # not ready: the job leaves it
        video_services.video_mark_ready(video_id=video.pk)
    assert published_to(video) == {subscriber.pk}


def test_a_video_hidden_before_delivery_is_not_delivered(channel, delivered):
    subscribers_of(channel, 2)
    video = VideoFactory(owner=channel, is_published=False)
    with delivered() as callbacks:
        # The toggle commits and its delivery waits in the queue ...
        video_services.video_toggle_publish(video_id=video.pk, actor=channel)
        # ... while the owner hides it again: the delivery finds it private.
        Video.objects.filter(pk=video.pk).update(visibility="unlisted")
    assert callbacks
    assert published_to(video) == set()
    assert tasks.fan_out_video(str(video.pk)) == 0


def test_a_video_deleted_before_delivery_is_not_delivered(channel, delivered):
    subscribers_of(channel, 2)
    video = VideoFactory(owner=channel, is_published=False)
    with delivered():
        video_services.video_toggle_publish(video_id=video.pk, actor=channel)
        Video.objects.filter(pk=video.pk).delete()
    assert Notification.objects.count() == 0


def test_a_subscriber_who_switched_the_type_off_is_not_notified(channel, delivered):
    wants, does_not = subscribers_of(channel, 2)
    NotificationSettings.objects.create(user=does_not, video_published=False)
    NotificationSettings.objects.create(user=wants, tweet_posted=False)  # another type
    video = VideoFactory(owner=channel, is_published=False)
    with delivered():
        video_services.video_toggle_publish(video_id=video.pk, actor=channel)
    assert published_to(video) == {wants.pk}


# --- The fan-out: batches, idempotence --------------------------------------------------------


def test_the_fan_out_inserts_in_batches_one_statement_each(channel, monkeypatch):
    subscribers = subscribers_of(channel, 7)
    video = VideoFactory(owner=channel)
    monkeypatch.setattr(services, "FAN_OUT_BATCH", 3)
    with CaptureQueriesContext(connection) as queries:
        assert tasks.fan_out_video(str(video.pk)) == 7
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    # 3 + 3 + 1 subscriptions: three statements, each reading its batch and inserting it.
    assert len(inserts) == 3
    assert published_to(video) == {subscriber.pk for subscriber in subscribers}


def test_a_fan_out_run_twice_delivers_nothing_twice(channel):
    subscribers_of(channel, 4)
    video = VideoFactory(owner=channel)
    assert tasks.fan_out_video(str(video.pk)) == 4
    before = set(Notification.objects.values_list("pk", "recipient_id", "created_at"))
    assert tasks.fan_out_video(str(video.pk)) == 0
    assert set(Notification.objects.values_list("pk", "recipient_id", "created_at")) == before


def test_a_fan_out_resumes_from_where_a_batch_stopped(channel):
    subscribers = subscribers_of(channel, 5)
    video = VideoFactory(owner=channel)
    first = services.fan_out_batch(
        type_="videoPublished", subject_id=video.pk, channel_id=channel.pk, batch_size=2
    )
    assert (len(first.delivered), first.done) == (2, False)
    # A new task carries the position as JSON.
    after = services.encode_position(first.after)
    assert tasks.fan_out_video(str(video.pk), after=after) == 3
    assert published_to(video) == {subscriber.pk for subscriber in subscribers}


def test_the_portable_fan_out_delivers_what_the_statement_delivers(channel, monkeypatch):
    subscribers = subscribers_of(channel, 4)
    NotificationSettings.objects.create(user=subscribers[0], tweet_posted=False)
    tweets = [TweetFactory(author=channel) for _ in range(2)]
    assert tasks.fan_out_tweet(str(tweets[0].pk)) == 3
    monkeypatch.setattr(connection, "vendor", "sqlite")  # the local run's path, on PostgreSQL
    assert tasks.fan_out_tweet(str(tweets[1].pk)) == 3
    assert tasks.fan_out_tweet(str(tweets[1].pk)) == 0
    by_tweet = [{recipient for recipient, *_ in rows(tweet=tweet)} for tweet in tweets]
    assert by_tweet[0] == by_tweet[1] == {subscriber.pk for subscriber in subscribers[1:]}


# --- tweetPosted -----------------------------------------------------------------------------


def test_a_tweet_notifies_the_subscribers_of_its_author(channel, delivered):
    subscribers = subscribers_of(channel, 2)
    with delivered():
        response = client_of(channel).post("/api/v1/tweets", {"content": "Hi"}, format="json")
    assert response.status_code == 201
    tweet_id = uuid.UUID(response.json()["data"]["id"])
    assert rows() == {
        (subscriber.pk, "tweetPosted", channel.pk, None, None, tweet_id)
        for subscriber in subscribers
    }


def test_a_tweet_deleted_before_delivery_is_not_delivered(channel, delivered):
    subscribers_of(channel, 2)
    with delivered():
        response = client_of(channel).post("/api/v1/tweets", {"content": "Oops"}, format="json")
        client_of(channel).delete(f"/api/v1/tweets/{response.json()['data']['id']}")
    assert Notification.objects.count() == 0


# --- videoCommented and commentReplied --------------------------------------------------------


def comment(client, video, content="Nice", parent=None):
    body = {"content": content}
    if parent is not None:
        body["parentId"] = str(parent.pk)
    response = client.post(f"/api/v1/comments/{video.pk}", body, format="json")
    assert response.status_code == 201, response.content
    return Comment.objects.get(pk=response.json()["data"]["id"])


def test_a_top_level_comment_notifies_the_video_owner(channel, delivered):
    video = VideoFactory(owner=channel)
    viewer = UserFactory()
    with delivered():
        made = comment(client_of(viewer), video)
    assert rows() == {(channel.pk, "videoCommented", viewer.pk, None, made.pk, None)}


def test_the_owner_commenting_on_their_own_video_is_told_nothing(channel, delivered):
    video = VideoFactory(owner=channel)
    with delivered():
        comment(client_of(channel), video)
    assert Notification.objects.count() == 0


def test_a_reply_notifies_the_thread_author_not_the_video_owner(channel, delivered):
    video = VideoFactory(owner=channel)
    starter, replier = UserFactory(), UserFactory()
    thread = CommentFactory(video=video, author=starter)
    with delivered():
        reply = comment(client_of(replier), video, parent=thread)
    assert rows() == {(starter.pk, "commentReplied", replier.pk, None, reply.pk, None)}


def test_a_reply_to_a_reply_notifies_the_thread_author(channel, delivered):
    video = VideoFactory(owner=channel)
    starter, first, second = UserFactory(), UserFactory(), UserFactory()
    thread = CommentFactory(video=video, author=starter)
    earlier = CommentFactory(video=video, author=first, parent=thread)
    with delivered():
        reply = comment(client_of(second), video, parent=earlier)
    assert rows() == {(starter.pk, "commentReplied", second.pk, None, reply.pk, None)}


def test_replying_in_ones_own_thread_is_told_nothing(channel, delivered):
    video = VideoFactory(owner=channel)
    starter = UserFactory()
    thread = CommentFactory(video=video, author=starter)
    with delivered():
        comment(client_of(starter), video, parent=thread)
    assert Notification.objects.count() == 0


def test_a_reply_on_a_video_the_thread_author_can_no_longer_see_is_not_delivered(
    channel, delivered
):
    video = VideoFactory(owner=channel)
    starter, replier = UserFactory(), UserFactory()
    thread = CommentFactory(video=video, author=starter)
    with delivered():
        comment(client_of(replier), video, parent=thread)
        Video.objects.filter(pk=video.pk).update(visibility="private")
    assert Notification.objects.count() == 0


def test_a_comment_deleted_before_delivery_is_not_delivered(channel, delivered):
    video = VideoFactory(owner=channel)
    viewer = UserFactory()
    with delivered():
        made = comment(client_of(viewer), video)
        client_of(viewer).delete(f"/api/v1/comments/c/{made.pk}")
    assert Notification.objects.count() == 0


def test_the_owner_who_switched_comments_off_is_not_told(channel, delivered):
    NotificationSettings.objects.create(user=channel, video_commented=False)
    video = VideoFactory(owner=channel)
    with delivered():
        comment(client_of(UserFactory()), video)
    assert Notification.objects.count() == 0


# --- channelSubscribed -----------------------------------------------------------------------


def test_a_new_subscriber_is_told_to_the_channel_once(channel, delivered):
    fan = UserFactory()
    toggle = f"/api/v1/subscriptions/c/{channel.pk}"
    with delivered():
        assert client_of(fan).post(toggle).json()["data"]["subscribed"] is True
    assert rows() == {(channel.pk, "channelSubscribed", fan.pk, None, None, None)}
    with delivered():
        client_of(fan).post(toggle)  # unsubscribes: nothing to tell
        client_of(fan).post(toggle)  # subscribes again: told already
    assert Notification.objects.count() == 1


def test_a_subscription_undone_before_delivery_is_not_delivered(channel, delivered):
    fan = UserFactory()
    toggle = f"/api/v1/subscriptions/c/{channel.pk}"
    with delivered():
        client_of(fan).post(toggle)
        client_of(fan).post(toggle)
    assert Notification.objects.count() == 0


# --- commentHearted --------------------------------------------------------------------------


def test_a_heart_notifies_the_comment_author_once(channel, delivered):
    video = VideoFactory(owner=channel)
    author = UserFactory()
    hearted = CommentFactory(video=video, author=author)
    heart = f"/api/v1/comments/c/{hearted.pk}/heart"
    owner = client_of(channel)
    with delivered():
        assert owner.patch(heart).json()["data"]["isHearted"] is True
    assert rows() == {(author.pk, "commentHearted", channel.pk, None, hearted.pk, None)}
    with delivered():
        owner.patch(heart)
        owner.patch(heart)
    assert Notification.objects.count() == 1


def test_hearting_ones_own_comment_and_a_heart_taken_back_tell_nobody(channel, delivered):
    video = VideoFactory(owner=channel)
    own = CommentFactory(video=video, author=channel)
    other = CommentFactory(video=video, author=UserFactory())
    owner = client_of(channel)
    with delivered():
        owner.patch(f"/api/v1/comments/c/{own.pk}/heart")
        owner.patch(f"/api/v1/comments/c/{other.pk}/heart")
        owner.patch(f"/api/v1/comments/c/{other.pk}/heart")  # taken back before delivery
    assert Notification.objects.count() == 0


# --- Deleting the subject deletes its notifications -----------------------------------------


def test_deleting_the_subject_or_a_user_deletes_their_notifications(channel, delivered):
    fan = subscribers_of(channel, 1)[0]
    video = VideoFactory(owner=channel, is_published=False)
    with delivered():
        video_services.video_toggle_publish(video_id=video.pk, actor=channel)
        made = comment(client_of(fan), video)
        client_of(channel).patch(f"/api/v1/comments/c/{made.pk}/heart")
        tweet = client_of(channel).post("/api/v1/tweets", {"content": "x"}, format="json")
    assert set(Notification.objects.values_list("type", flat=True)) == {
        "videoPublished",
        "videoCommented",
        "commentHearted",
        "tweetPosted",
    }
    client_of(fan).delete(f"/api/v1/comments/c/{made.pk}")
    assert set(Notification.objects.values_list("type", flat=True)) == {
        "videoPublished",
        "tweetPosted",
    }
    client_of(channel).delete(f"/api/v1/tweets/{tweet.json()['data']['id']}")
    client_of(channel).delete(f"{VIDEOS}/{video.pk}")
    assert Notification.objects.count() == 0
    with delivered():
        client_of(fan).post(f"/api/v1/subscriptions/c/{UserFactory().pk}")
    assert Notification.objects.count() == 1
    fan.delete()  # the actor goes: so does what it did
    assert Notification.objects.count() == 0


# --- The live side ---------------------------------------------------------------------------


def test_the_live_side_hears_what_was_delivered_after_the_commit(channel, delivered, pushed):
    video = VideoFactory(owner=channel)
    subscribers = subscribers_of(channel, 2)
    with delivered():
        made = comment(client_of(subscribers[0]), video)
    [only] = Notification.objects.all()
    assert pushed.notifications == [[(only.pk, channel.pk)]]
    assert pushed.counts == [(channel.pk, 1)]
    with delivered():
        client_of(channel).patch(f"/api/v1/comments/c/{made.pk}/heart")
    with delivered():
        tweet = client_of(channel).post("/api/v1/tweets", {"content": "x"}, format="json")
    assert tweet.status_code == 201
    fan_out = pushed.notifications[-1]
    assert {recipient for _, recipient in fan_out} == {s.pk for s in subscribers}
    # A fan-out batch pushes no counts (the live side counts for whom it has connected).
    assert pushed.counts == [(channel.pk, 1), (subscribers[0].pk, 1)]


def test_nothing_delivered_pushes_nothing(channel, delivered, pushed):
    video = VideoFactory(owner=channel)
    with delivered():
        comment(client_of(channel), video)
    assert (pushed.notifications, pushed.counts) == ([], [])


def test_staff_making_videos_public_notifies_as_the_owner_would(channel, delivered):
    subscriber = subscribers_of(channel, 1)[0]
    first, second = (VideoFactory(owner=channel, is_published=False) for _ in range(2))
    with delivered():
        assert (
            video_services.video_set_visibility(
                videos=Video.objects.filter(pk=first.pk), visibility="public"
            )
            == 1
        )
        second.visibility = "public"
        video_services.video_save_by_staff(video=second)
    assert published_to(first) == published_to(second) == {subscriber.pk}
