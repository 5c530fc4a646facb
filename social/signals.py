"""What the social app announces to the apps above it (``viztube.events``): sent after the
commit, with ids only.

- ``comment_posted(comment_id, video_id, author_id, thread_id)``: a new comment; ``thread_id``
  is the id of the thread's top-level comment for a reply, None for a top-level comment.
- ``tweet_posted(tweet_id, author_id)``: a new tweet.
- ``channel_subscribed(subscriber_id, channel_id)``: a new subscription (not an unsubscription).
- ``comment_hearted(comment_id, actor_id)``: the video's owner hearted the comment (not when
  the heart is taken back).
"""

from django.dispatch import Signal

comment_posted = Signal()
tweet_posted = Signal()
channel_subscribed = Signal()
comment_hearted = Signal()
