"""Notifications: what happened that concerns a user, delivered in the background, read as a
cursor walk, and pushed live (``notifications.live``).

Where it stands: at the top of the layer order (with ``ops``): it reads videos, comments,
subscriptions and tweets, and no lower app imports it. The lower apps tell it what they do
through domain signals, each defined in the app that sends it and sent once the transaction
that made the change has committed (``viztube.events.send_after_commit``), with ids only:

- ``videos.signals.video_published(video_id, owner_id)``: a video became public and ready for
  the first time (at publish, by toggle or ``PATCH``, by staff, by the scheduled-publishing
  job, or when its processing finished);
- ``social.signals.tweet_posted(tweet_id, author_id)``;
- ``social.signals.comment_posted(comment_id, video_id, author_id, thread_id)``;
- ``social.signals.channel_subscribed(subscriber_id, channel_id)``;
- ``social.signals.comment_hearted(comment_id, actor_id)``.

Signals rather than calls because the senders sit below this app and may not import it;
after the commit, because a receiver must never hear of a change that was rolled back. The
receivers (``notifications.receivers``) only enqueue a task; the tasks
(``notifications.tasks``) deliver, and every rule is checked by the delivery statement when it
runs (``notifications.services``): the subject still exists and the recipient may see it,
the recipient is not the actor, the recipient's settings want the type, and the recipient does
not have that notification already (a unique index per subject: a task run twice delivers
nothing twice).

The types: ``videoPublished`` and ``tweetPosted`` to every subscriber of the channel (a
fan-out), ``videoCommented`` to a video's owner for a top-level comment, ``commentReplied`` to
the author of a thread for a reply in it, ``channelSubscribed`` to a channel for a new
subscriber (once per subscriber), ``commentHearted`` to a comment's author when the video's
owner hearts it.

How far fan-out on write goes: a published video costs one row per subscriber, inserted in
batches of ``services.FAN_OUT_BATCH`` by one statement each (docs/benchmark.md: 100,000
subscribers are notified in seconds, the publish request is not slower). That is linear in the
channel's audience, in time and in rows: a channel with millions of subscribers would write
millions of rows per video, most never read. Beyond some hundreds of thousands of subscribers
the design changes to fan-out on read, the way the subscription feed works (``social.feed``):
a very large channel's videos and tweets are not written to each subscriber but merged into the
subscriber's list when it is read (the channel's newest items from its own index, as the feed's
``LATERAL`` read does), with only the per-user state (read up to when) stored. Not built: no
channel here comes near that size.
"""
