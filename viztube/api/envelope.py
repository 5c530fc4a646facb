"""The response envelope every API answer travels in."""

from django.http import HttpResponse
from rest_framework import status as http_status
from rest_framework.response import Response

from viztube.api.renderers import EnvelopeJSONRenderer, dumps, fragment


def success_body(data, message, status_code=200):
    return {"statusCode": status_code, "data": data, "message": message, "success": True}


def error_body(status_code, message, errors=None, fields=None, data=None):
    body = {
        "statusCode": status_code,
        "data": data,
        "success": False,
        "message": message,
        "errors": list(errors) if errors else [message],
    }
    if fields:
        body["fields"] = fields
    return body


def ok(data, message, status=http_status.HTTP_200_OK):
    """A success response; ``statusCode`` always equals the HTTP status."""
    return Response(success_body(data, message, status), status=status)


def created(data, message):
    return ok(data, message, status=http_status.HTTP_201_CREATED)


def ok_encoded(request, encoded_data, message):
    """``ok(data, message)`` for ``data`` that is already JSON (``renderers.dumps`` bytes, e.g. a
    cached page), with the same bytes and headers.

    When the client takes the API's JSON as it is (the negotiated renderer is the envelope's
    JSON renderer, no ``indent`` asked for), the body is joined from bytes into an
    ``HttpResponse``: DRF's ``Response`` and its rendering cost ~0.15 M instructions, 6 % of a
    cached list page, to write the same bytes. Any other negotiation (an indent, the browsable
    API in debug mode) goes through ``ok`` and its renderer.
    """
    renderer = getattr(request, "accepted_renderer", None)
    if type(renderer) is not EnvelopeJSONRenderer or "indent" in request.accepted_media_type:
        return ok(fragment(encoded_data), message)
    body = b"".join(
        (
            b'{"statusCode":200,"data":',
            encoded_data,
            b',"message":',
            dumps(message),
            b',"success":true}',
        )
    )
    return HttpResponse(body, content_type=renderer.media_type)
