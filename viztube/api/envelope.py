"""The response envelope every API answer travels in."""

from rest_framework import status as http_status
from rest_framework.response import Response


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
