"""Reads of upload sessions. A session is its creator's alone: anyone else, like a session that
expired, gets the same 404 as an id that names nothing."""

from django.utils import timezone

from media.models import UploadSession
from viztube import errors

UPLOAD_NOT_FOUND = "Upload not found"


def upload_sessions_open(*, owner, now=None):
    """The sessions of ``owner`` that hold bytes for them: not expired, not yet used."""
    return UploadSession.objects.filter(owner_id=owner.pk, expires_at__gt=now or timezone.now())


def upload_session_get_for_owner(upload_id, owner, *, now=None):
    """The open session ``upload_id`` of ``owner``; 404 for a missing, expired or foreign one."""
    try:
        return upload_sessions_open(owner=owner, now=now).get(pk=upload_id)
    except UploadSession.DoesNotExist:
        raise errors.NotFound(UPLOAD_NOT_FOUND) from None
