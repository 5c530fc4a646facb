"""The errors that services and selectors raise: domain outcomes, free of HTTP.

A service says *what* went wrong (not found, not allowed, a conflict, bad input, a failed
dependency); the one exception handler (``viztube.api.exceptions``) decides how that is answered
(status, envelope, headers). Code below the views never imports DRF's exceptions, so the same
services serve a view, a management command, a Celery task or the admin.

``message`` is the client-facing sentence. ``fields`` (``{field: [messages]}``) names the input
fields at fault, for the envelope's ``fields`` member. ``data`` is for the rare error that tells
the client what to do next (a resumable upload's 409 carries the offset to resume from): it
becomes the envelope's ``data``, which is null for every other error.
"""


class ApplicationError(Exception):
    default_message = "The request could not be completed"

    def __init__(self, message=None, *, fields=None, data=None):
        self.message = message or self.default_message
        self.fields = fields or {}
        self.data = data
        super().__init__(self.message)


class NotFound(ApplicationError):
    """The resource does not exist, or the caller may not know that it does."""

    default_message = "Not found"


class NotAllowed(ApplicationError):
    """The caller can see the resource but may not do this to it."""

    default_message = "You do not have permission to perform this action"


class InvalidRequest(ApplicationError):
    """The request itself is malformed (a bad query parameter, an impossible operation)."""

    default_message = "Bad request"


class InvalidInput(ApplicationError):
    """Input fields break a rule; ``fields`` says which. Without a message of its own the
    envelope says "Validation failed"."""

    default_message = "Validation failed"


class Conflict(ApplicationError):
    """The change contradicts the current state (a duplicate, something already there)."""

    default_message = "Conflict"


class TooLarge(ApplicationError):
    """An upload is over its size cap."""

    default_message = "Request body too large"


class InvalidCredentials(ApplicationError):
    """Sign-in or token checks failed."""

    default_message = "Invalid credentials"


class TryLater(ApplicationError):
    """Refused for now (a lockout, a limit); ``wait`` seconds until a retry can succeed."""

    default_message = "Too many attempts; try again later"

    def __init__(self, message=None, *, wait, fields=None):
        super().__init__(message, fields=fields)
        self.wait = wait


class DependencyFailed(ApplicationError):
    """A remote dependency (media storage) failed or timed out; nothing was saved."""

    default_message = "The media storage service failed; nothing was saved"
