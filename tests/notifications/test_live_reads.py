"""The database work of the live sockets, gathered (notifications/live_reads.py): one query per
kind for any number of sockets, with the answers each socket would have had on its own."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from accounts import services as account_services
from accounts import user_cache
from accounts.authentication import authenticate_access_token, tokens_still_valid
from notifications import live_reads
from notifications.models import Notification
from notifications.selectors import UNREAD_COUNT_CAP, unread_count, unread_counts
from tests.factories import TweetFactory, UserFactory, VideoFactory
from tests.notifications.live_support import access_token

pytestmark = pytest.mark.django_db


def notify(recipient, **subject):
    return Notification.objects.create(
        recipient=recipient,
        type=subject.pop("type", "channelSubscribed"),
        actor=subject.pop("actor", None) or UserFactory(),
        created_at=timezone.now(),
        **subject,
    )


def validated(user, **kwargs):
    return authenticate_access_token(access_token(user, **kwargs))[1]


def test_unread_counts_are_each_user_s_unread_count_in_one_query(django_assert_num_queries):
    none, some, many, hidden = UserFactory.create_batch(4)
    for _ in range(3):
        notify(some)
    read = notify(some)
    read.is_read = True
    read.save()
    subscribers = get_user_model().objects.bulk_create(
        get_user_model()(username=f"fan{i}", email=f"fan{i}@x.example", fullname="Fan")
        for i in range(UNREAD_COUNT_CAP + 5)
    )
    Notification.objects.bulk_create(
        Notification(recipient=many, type="channelSubscribed", actor=fan) for fan in subscribers
    )
    # A notification about a video its recipient can no longer see is not counted.
    private = VideoFactory(visibility="private")
    notify(hidden, type="videoPublished", video=private, actor=private.owner)
    notify(hidden)
    users = [none, some, many, hidden]

    with django_assert_num_queries(1):
        counts = unread_counts(user_ids=[u.pk for u in users])

    assert counts == {u.pk: unread_count(user_id=u.pk) for u in users}
    assert counts == {none.pk: 0, some.pk: 3, many.pk: UNREAD_COUNT_CAP, hidden.pk: 1}


def test_tokens_still_valid_answers_as_the_single_check_in_one_query(django_assert_num_queries):
    fine, deactivated, changed, deleted = UserFactory.create_batch(4, password="old-pass-123x")
    tokens = [validated(u) for u in (fine, deactivated, changed, deleted)]
    account_services.user_deactivate_many(user_ids=[deactivated.pk])
    account_services.user_change_password(
        user=changed, old_password="old-pass-123x", new_password="a-new-password-456"
    )
    user_cache.forget(deleted.pk)  # as a service deleting a user does
    deleted.delete()

    with django_assert_num_queries(1):
        valid = tokens_still_valid(tokens)

    assert valid == [True, False, False, False]
    # The same verdicts, token by token, as the single check gives.
    from accounts.authentication import user_of_validated_token

    for token, ok in zip(tokens, valid, strict=True):
        if ok:
            user_of_validated_token(token)
        else:
            with pytest.raises(AuthenticationFailed):
                user_of_validated_token(token)


def test_a_batch_reads_any_number_of_sockets_in_three_queries(django_assert_num_queries):
    author = UserFactory()
    users = UserFactory.create_batch(4)
    tweet = TweetFactory(author=author, content="x" * 150)
    notifications = [notify(u, type="tweetPosted", tweet=tweet, actor=author) for u in users]
    requests = [
        live_reads.Read(
            token=validated(u),
            user_id=u.pk,
            notification_id=str(n.pk),
            count=True,
            media_base="http://one.example",
        )
        for u, n in zip(users, notifications, strict=True)
    ]
    # Another socket of the first user, from another host; and one that wants the count only.
    requests.append(
        live_reads.Read(
            token=validated(users[0]),
            user_id=users[0].pk,
            notification_id=str(notifications[0].pk),
            media_base="http://two.example",
        )
    )
    requests.append(live_reads.Read(token=validated(users[1]), user_id=users[1].pk, count=True))

    # Tokens, notifications, unread counts.
    with django_assert_num_queries(3):
        found = live_reads.read_batch(requests)

    assert [f.valid for f in found] == [True] * 6
    assert [f.unread_count for f in found] == [1, 1, 1, 1, None, 1]
    for result, notification in zip(found[:4], notifications, strict=True):
        assert f'"id":"{notification.pk}"' in result.text
        assert '"content":"' + "x" * 100 + '"}' in result.text
        assert '"avatar":"http://one.example/media/' in result.text
    assert '"avatar":"http://two.example/media/' in found[4].text
    assert found[5].text is None


def test_a_revoked_token_in_a_batch_reads_nothing_for_it(django_assert_num_queries):
    kept, revoked = UserFactory.create_batch(2)
    tokens = {u: validated(u) for u in (kept, revoked)}
    mine = notify(revoked)
    account_services.user_deactivate_many(user_ids=[revoked.pk])
    requests = [
        live_reads.Read(token=tokens[kept], user_id=kept.pk, count=True),
        live_reads.Read(
            token=tokens[revoked], user_id=revoked.pk, notification_id=str(mine.pk), count=True
        ),
    ]

    # No notification is read: the only one asked for is the revoked socket's.
    with django_assert_num_queries(2):
        found = live_reads.read_batch(requests)

    assert found == [
        live_reads.Found(valid=True, unread_count=0),
        live_reads.Found(valid=False),
    ]
