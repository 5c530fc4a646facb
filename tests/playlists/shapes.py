"""Expected JSON shapes, written out field by field (not derived from the serializers under test)."""

from datetime import UTC


def iso(moment):
    """A datetime as the API writes it: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def media_url(name):
    return f"/media/{name}" if name else ""


def person(user):
    return {
        "id": str(user.id),
        "username": user.username,
        "fullname": user.fullname,
        "avatar": media_url(user.avatar.name),
    }


def video_doc(video):
    return {
        "id": str(video.id),
        "title": video.title,
        "description": video.description,
        "videoFileUrl": media_url(video.video_file.name),
        "thumbnailUrl": media_url(video.thumbnail.name),
        "duration": video.duration,
        "views": video.views,
        "isPublished": video.is_published,
        "userId": str(video.owner_id),
        "createdAt": iso(video.created_at),
        "updatedAt": iso(video.updated_at),
        "user": person(video.owner),
    }


def playlist_summary(playlist, *, total_videos, thumbnail):
    playlist.refresh_from_db()
    return {
        "id": str(playlist.id),
        "name": playlist.name,
        "description": playlist.description,
        "userId": str(playlist.owner_id),
        "createdAt": iso(playlist.created_at),
        "updatedAt": iso(playlist.updated_at),
        "totalVideos": total_videos,
        "thumbnail": thumbnail,
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
    return {
        "statusCode": status,
        "data": None,
        "success": False,
        "message": message,
        "errors": [message],
    }
