"""One exception handler: every error leaves in the error envelope."""

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.log import log_response
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings

from viztube import errors as domain

from .envelope import error_body

logger = logging.getLogger("viztube.errors")


class BadRequest(exceptions.APIException):
    """A malformed request (bad query parameter, unreadable body): 400."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request"
    default_code = "bad_request"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large"
    default_code = "too_large"


class DatabaseUnavailable(exceptions.APIException):
    """The database did not answer, or dropped the connection: 503, retry later."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is unavailable; try again shortly"
    default_code = "database_unavailable"
    # A PostgreSQL restart keeps it away for about a second (docs/faults.md); a failover or a
    # full connection pool lasts longer. Clients that honour Retry-After come back after this.
    wait = 5


VALIDATION_MESSAGE = "Validation failed"

# How each domain error (viztube.errors) is answered. The most specific class wins: the
# handler walks the error's MRO.
DOMAIN_STATUSES = {
    domain.NotFound: status.HTTP_404_NOT_FOUND,
    domain.NotAllowed: status.HTTP_403_FORBIDDEN,
    domain.InvalidRequest: status.HTTP_400_BAD_REQUEST,
    domain.InvalidInput: status.HTTP_422_UNPROCESSABLE_ENTITY,
    domain.Conflict: status.HTTP_409_CONFLICT,
    domain.TooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    domain.InvalidCredentials: status.HTTP_401_UNAUTHORIZED,
    domain.TryLater: status.HTTP_429_TOO_MANY_REQUESTS,
    domain.DependencyFailed: status.HTTP_502_BAD_GATEWAY,
    domain.ApplicationError: status.HTTP_400_BAD_REQUEST,
}


def domain_error_response(exc, context):
    """The envelope for a ``viztube.domain.ApplicationError`` raised below the views."""
    code = next(DOMAIN_STATUSES[cls] for cls in type(exc).__mro__ if cls in DOMAIN_STATUSES)
    if isinstance(exc, domain.InvalidInput) and exc.message == VALIDATION_MESSAGE:
        return validation_error_response(exc.fields or [exc.message], code)
    headers = {}
    if isinstance(exc, domain.TryLater):
        headers["Retry-After"] = str(math.ceil(exc.wait))
    if isinstance(exc, domain.InvalidCredentials):
        view, request = context.get("view"), context.get("request")
        if view is not None and request is not None:
            header = view.get_authenticate_header(request)
            if header:
                headers["WWW-Authenticate"] = header
    # One problem named by several fields is one error.
    messages = list(
        dict.fromkeys(
            message for field_messages in exc.fields.values() for message in field_messages
        )
    )
    body = error_body(code, exc.message, messages or None, exc.fields or None, exc.data)
    return Response(body, status=code, headers=headers)


def _flatten(detail, prefix=""):
    """Yield ``(field, message)`` pairs from DRF's nested error detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if not prefix else f"{prefix}.{key}"
            yield from _flatten(value, name)
    elif isinstance(detail, list):
        for item in detail:
            yield from _flatten(item, prefix)
    else:
        yield prefix, str(detail)


def validation_error_response(detail, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY):
    if not isinstance(detail, dict | list):
        detail = [detail]
    fields, errors = {}, []
    for field, message in _flatten(detail):
        if message not in errors:  # one problem named by two fields is one error
            errors.append(message)
        if field and field != api_settings.NON_FIELD_ERRORS_KEY:
            fields.setdefault(field, []).append(message)
    message = VALIDATION_MESSAGE if fields or len(errors) != 1 else errors[0]
    return Response(error_body(status_code, message, errors, fields), status=status_code)


def envelope_exception_handler(exc, context):
    if isinstance(exc, OperationalError | InterfaceError):
        return _database_unavailable(exc, context)
    if isinstance(exc, domain.DependencyFailed):
        logger.warning("Media storage failed (request %s): %s", _request_id(context), exc)
    if isinstance(exc, domain.ApplicationError):
        return domain_error_response(exc, context)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, TooManyFilesSent):
        exc = BadRequest("Too many files in one request")
    elif isinstance(exc, TooManyFieldsSent):
        exc = BadRequest("Too many fields in one request")
    elif isinstance(exc, SuspiciousOperation):
        exc = BadRequest("Bad request")
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        exc = _unsupported_media_type(exc, context)
    elif isinstance(exc, exceptions.NotAuthenticated):
        # The authentication may say why the caller is anonymous (a stale session cookie).
        request = context.get("request")
        exc = exceptions.NotAuthenticated(
            getattr(request, "anonymous_because", None) or "Unauthorized request"
        )

    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) else "Not found")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return validation_error_response(detail)

    if isinstance(exc, exceptions.ValidationError):
        # DRF raises ValidationError with 400 from serializers; field problems are 422 here.
        code = exc.status_code
        if code == status.HTTP_400_BAD_REQUEST:
            code = status.HTTP_422_UNPROCESSABLE_ENTITY
        return validation_error_response(exc.detail, code)

    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(math.ceil(exc.wait))
        message = _message_of(exc)
        return Response(
            error_body(exc.status_code, message), status=exc.status_code, headers=headers
        )

    logger.exception("Unhandled error (request %s)", _request_id(context))
    return Response(
        error_body(status.HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error"),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _unsupported_media_type(exc, context):
    """DRF says 'Unsupported media type "<the whole header>" in request.' (a multipart boundary
    included); say which type was sent and which the route takes. A view's own message stays."""
    default = exceptions.UnsupportedMediaType.default_detail
    request, view = context.get("request"), context.get("view")
    sent = (getattr(request, "content_type", "") or "").split(";")[0].strip() or "none"
    if view is None or str(exc.detail) != default.format(
        media_type=getattr(request, "content_type", "")
    ):
        return exc
    accepted = ", ".join(parser.media_type for parser in view.get_parsers())
    return exceptions.UnsupportedMediaType(
        sent, detail=f'Unsupported media type "{sent}": this route takes {accepted}'
    )


def _database_unavailable(exc, context):
    """503 with Retry-After for a database that is down or dropped the connection (a restart,
    a failover, connections exhausted): a passing condition, not a bug, so one log line with the
    request id and the database's own message, and no traceback.

    The line goes through Django's ``log_response``, which marks the response as logged: Django
    would otherwise add a second line ("Service Unavailable: <path>") for the same request.
    """
    unavailable = DatabaseUnavailable()
    response = Response(
        error_body(unavailable.status_code, str(unavailable.detail)),
        status=unavailable.status_code,
        headers={"Retry-After": str(unavailable.wait)},
    )
    request = context.get("request")
    detail = str(exc).strip().splitlines()
    log_response(
        "Database unavailable (request %s): %s: %s",
        _request_id(context),
        type(exc).__name__,
        detail[0] if detail else "",
        response=response,
        request=getattr(request, "_request", request),
        logger=logger,
    )
    return response


def _message_of(exc):
    detail = exc.detail
    if isinstance(detail, dict):
        # simplejwt answers {"detail": ..., "code": ..., "messages": [...]}
        detail = detail.get("detail", next(iter(detail.values()), exc.default_detail))
    if isinstance(detail, list):
        detail = detail[0] if detail else exc.default_detail
    return str(detail)


def _request_id(context):
    request = context.get("request")
    return getattr(request, "request_id", "-") if request is not None else "-"
