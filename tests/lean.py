"""The lean paths' guard: one request answered by the lean path and by the serializer path
(the view's ``lean()`` switched off), compared byte for byte: status, body and headers."""

# Headers that differ between two requests whatever the path.
_PER_REQUEST_HEADERS = {"X-Request-ID"}


def answer(response):
    headers = {
        name: value for name, value in response.headers.items() if name not in _PER_REQUEST_HEADERS
    }
    return response.status_code, headers, response.content


def assert_same_answer(monkeypatch, views_module, request, *, between=None):
    """``request()`` answered by the lean path, then (after ``between()``, which puts back
    what the first answer wrote) by the serializer path, identically. Returns the lean
    response."""
    lean = request()
    if between is not None:
        between()
    with monkeypatch.context() as patch:
        patch.setattr(views_module, "lean", lambda: False)
        reference = request()
    assert answer(lean) == answer(reference)
    return lean
