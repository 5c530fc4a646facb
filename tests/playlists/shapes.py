"""Expected JSON shapes, written out field by field (not derived from the serializers under test)."""

from tests.shapes import (  # noqa: F401 (re-exported for this package)
    error,
    iso,
    media_url,
    page,
    person,
    success,
)
from tests.shapes import video_shape as video_doc  # noqa: F401


def playlist_summary(playlist, *, total_videos, thumbnail):
    playlist.refresh_from_db()
    return {
        "id": str(playlist.id),
        "name": playlist.name,
        "description": playlist.description,
        "visibility": playlist.visibility,
        "userId": str(playlist.owner_id),
        "createdAt": iso(playlist.created_at),
        "updatedAt": iso(playlist.updated_at),
        "totalVideos": total_videos,
        "thumbnail": thumbnail,
    }


def field_error(field, message):
    """The whole error envelope of a 422 about one field."""
    return {
        "statusCode": 422,
        "data": None,
        "success": False,
        "message": "Validation failed",
        "errors": [message],
        "fields": {field: [message]},
    }
