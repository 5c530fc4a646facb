"""Who is calling: the client's IP address, without trusting spoofable headers by default."""

from django.conf import settings


def client_ip(request):
    """The caller's IP: ``REMOTE_ADDR``, unless the deployment declares trusted proxies.

    With ``TRUSTED_PROXY_COUNT = n`` (the number of proxies in front of the app that append to
    ``X-Forwarded-For``), the address n entries from the right is the client's; anything to its
    left was written by the client and is ignored. Without it, ``X-Forwarded-For`` is ignored
    entirely, so a spoofed header can never reset a client's rate limit.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
