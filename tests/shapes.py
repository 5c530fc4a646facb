"""Expected JSON shapes, written out field by field (never derived from the serializers under
test), and envelope assertions shared by every test package. Media URLs are those of the local
storage, absolute from the test client's origin (``http://testserver/media/<name>``)."""

import datetime


def iso(moment):
    """A datetime as the API writes it: ISO-8601 UTC, milliseconds, ``Z``."""
    return (
        moment.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")
        + "Z"
    )


TEST_ORIGIN = "http://testserver"


def media_url(name):
    return f"{TEST_ORIGIN}/media/{name}" if name else ""


def person(user):
    """The person shape of a user inside another object."""
    return {
        "id": str(user.pk),
        "username": user.username,
        "fullname": user.fullname,
        "avatar": media_url(user.avatar.name),
    }


def video_shape(video):
    """The list shape of a video."""
    return {
        "id": str(video.pk),
        "title": video.title,
        "description": video.description,
        "videoFileUrl": media_url(video.video_file.name),
        "thumbnailUrl": media_url(video.thumbnail.name),
        "duration": video.duration,
        "views": video.views,
        "isPublished": video.is_published,
        "visibility": video.visibility,
        "publishAt": iso(video.publish_at) if video.publish_at else None,
        "publishedAt": iso(video.published_at) if video.published_at else None,
        "status": video.status,
        "failureReason": video.failure_reason,
        "streamingUrl": video.streaming_url,
        "userId": str(video.owner_id),
        "createdAt": iso(video.created_at),
        "updatedAt": iso(video.updated_at),
        "user": person(video.owner),
    }


def tweet_shape(tweet, *, likes=0, liked=False):
    """The shape of a tweet (``likes`` and ``liked`` as the caller sees them)."""
    return {
        "id": str(tweet.pk),
        "content": tweet.content,
        "userId": str(tweet.author_id),
        "createdAt": iso(tweet.created_at),
        "updatedAt": iso(tweet.updated_at),
        "user": person(tweet.author),
        "likesCount": likes,
        "isLiked": liked,
    }


def page(docs, *, total, limit=10, page_number=1):
    total_pages = -(-total // limit)
    return {
        "docs": docs,
        "totalDocs": total,
        "limit": limit,
        "page": page_number,
        "totalPages": total_pages,
        "hasNextPage": page_number < total_pages,
        "hasPrevPage": page_number > 1,
    }


def success(data, message, status=200):
    return {"statusCode": status, "data": data, "message": message, "success": True}


def error(status, message):
    """The whole error envelope of a single-message error."""
    return {
        "statusCode": status,
        "data": None,
        "success": False,
        "message": message,
        "errors": [message],
    }


def assert_error(response, status, message=None):
    """Assert the error envelope (and its message, when given); returns the body."""
    body = response.json()
    assert response.status_code == status, body
    assert body["statusCode"] == status
    assert body["success"] is False
    assert body["data"] is None
    assert isinstance(body["errors"], list) and body["errors"]
    if message is not None:
        assert body["message"] == message
    return body
