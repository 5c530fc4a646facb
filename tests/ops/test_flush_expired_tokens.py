"""flushexpiredtokens (simplejwt's, scheduled daily in docs/operations.md) removes the records
of expired refresh tokens, blacklisted or not, and keeps the live ones."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.tasks import flush_expired_tokens
from tests.conftest import tokens_for

pytestmark = pytest.mark.django_db


def test_expired_token_records_go_and_live_ones_stay(user, other_user):
    tokens_for(user)  # a live refresh token of ``user``
    tokens_for(other_user)
    expired, live = OutstandingToken.objects.order_by("id")
    expired.expires_at = timezone.now() - timedelta(minutes=1)
    expired.save(update_fields=["expires_at"])
    BlacklistedToken.objects.create(token=expired)
    BlacklistedToken.objects.create(token=live)  # rotated but not expired yet

    call_command("flushexpiredtokens", stdout=io.StringIO())

    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [live.jti]
    assert list(BlacklistedToken.objects.values_list("token__jti", flat=True)) == [live.jti]


def test_the_daily_task_runs_the_same_flush(user):
    tokens_for(user)
    tokens_for(user)
    expired, live = OutstandingToken.objects.order_by("id")
    expired.expires_at = timezone.now() - timedelta(minutes=1)
    expired.save(update_fields=["expires_at"])

    assert flush_expired_tokens.apply().successful()

    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [live.jti]
