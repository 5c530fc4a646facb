"""What the videos app announces to the apps above it (``viztube.events``): sent after the
commit, with ids only.

- ``video_published(video_id, owner_id)``: the video became listed (public and ready) for the
  first time, whichever way: published public at once, made public by its owner (toggle or
  ``PATCH``) or by staff, by the scheduled-publishing job, or by its processing finishing
  (``video_mark_ready``). It is the moment ``published_at`` is stamped, so it is sent once per
  video: hiding a video and showing it again does not send it again.
"""

from django.dispatch import Signal

video_published = Signal()
