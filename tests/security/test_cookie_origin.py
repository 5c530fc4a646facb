"""The matrix again, for browsers (docs/api.md, "Cross-site requests"): every unsafe route
that needs a token, called by the owner with the ``accessToken`` cookie instead of a Bearer
header. Without an ``Origin``/``Referer``, or with a foreign one, it is a 403 that changes
nothing; from a trusted origin it answers exactly as the Bearer matrix says.
"""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.security.test_authorization_matrix import MATRIX, _resolve
from tests.security.world import build_world, db_state, media_state

pytestmark = pytest.mark.django_db

UNSAFE_PROTECTED = sorted(
    key
    for key, expect in MATRIX.items()
    if len(key) == 2 and key[1] in ("post", "patch", "delete") and expect.anon == 401
)
REFUSED = {
    "no origin": {},
    "foreign origin": {"HTTP_ORIGIN": "https://attacker.example"},
    "foreign referer": {"HTTP_REFERER": "https://attacker.example/page"},
    "null origin": {"HTTP_ORIGIN": "null"},
}


@pytest.mark.parametrize(
    "key", UNSAFE_PROTECTED, ids=[f"{m.upper()} {p}" for p, m in UNSAFE_PROTECTED]
)
def test_cookie_authenticated_writes_need_a_trusted_origin(key, django_capture_on_commit_callbacks):
    assert len(UNSAFE_PROTECTED) > 20
    expect = MATRIX[key]
    world = build_world()
    url = key[0].format(**_resolve(world, expect, "owner"))
    client = APIClient()
    client.cookies["accessToken"] = world.tokens["owner"][0]
    send = getattr(client, key[1])

    def body():
        return expect.body(world, "owner") if callable(expect.body) else expect.body

    rows, files = db_state(), media_state(settings)
    for origin, headers in REFUSED.items():
        with django_capture_on_commit_callbacks(execute=True):
            response = send(url, body(), format=expect.fmt, **headers)
        assert response.status_code == 403, (origin, response.content[:300])
        assert response.json()["message"].startswith("Cross-site request refused"), origin
        assert db_state() == rows, origin
        assert media_state(settings) == files, origin

    # The control: from a trusted origin the same request answers as the Bearer matrix says.
    trusted = {"HTTP_ORIGIN": settings.CSRF_TRUSTED_ORIGINS[0]}
    with django_capture_on_commit_callbacks(execute=True):
        response = send(url, body(), format=expect.fmt, **trusted)
    assert response.status_code == expect.owner, response.content[:300]
