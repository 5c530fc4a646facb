"""scripts/faults.py: how it judges a load around a restart, its guard and its bounds.

The scenarios themselves need gunicorn (and one restarts PostgreSQL), so they run from the script,
not from the suite; what decides pass or fail is tested here.
"""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts import faults
from scripts.faults import Answer, Sample, analyse_load

SCRIPT = Path(faults.__file__)
RESTART_STARTED, RESTART_ENDED = 10.0, 11.0


def sample(started, status, *, seconds=0.05, envelope=None, error=""):
    if envelope is None:
        envelope = status is not None and status >= 400
    return Sample(
        path="/api/v1/videos?limit=5",
        started=started,
        ended=started + seconds,
        status=status,
        error=error,
        envelope=envelope,
    )


def test_a_clean_recovery_has_errors_only_inside_the_outage_window():
    samples = [
        sample(9.0, 200),
        sample(9.9, 200),  # ends at 9.95, before the restart
        sample(10.2, 500),
        sample(10.5, None, error="ConnectionRefusedError"),
        sample(11.1, 503),  # started after the restart returned, still failing
        sample(11.3, 200),  # the first 2xx after the restart: recovered at 11.35
        sample(11.5, 200),
        sample(12.0, 200),
    ]

    figures = analyse_load(samples, restart_started=RESTART_STARTED, restart_ended=RESTART_ENDED)

    assert figures == {
        "requests": 8,
        "before": 2,
        "before_errors": 0,
        "during": 4,
        "during_errors": 3,
        "during_statuses": {"200": 1, "500": 1, "503": 1, "ConnectionRefusedError": 1},
        "during_errors_in_envelope": 2,
        "after": 2,
        "after_errors": 0,
        "after_statuses": {"200": 2},
        "restart_seconds": 1.0,
        "outage_seconds": 1.35,
    }


def test_a_dead_persistent_connection_after_recovery_is_counted_as_an_error_after():
    samples = [
        sample(9.0, 200),
        sample(11.2, 200),  # recovered at 11.25
        sample(11.4, 500),  # a worker thread reusing a connection the restart killed
        sample(11.6, 200),
    ]

    figures = analyse_load(samples, restart_started=RESTART_STARTED, restart_ended=RESTART_ENDED)

    assert (figures["after"], figures["after_errors"]) == (2, 1)
    assert figures["after_statuses"] == {"200": 1, "500": 1}


def test_a_2xx_of_a_request_started_before_the_restart_returned_is_not_a_recovery():
    # Started while the server was coming back (a connection opened before the shutdown).
    samples = [sample(10.1, 200, seconds=2.0), sample(11.5, 500), sample(12.5, 500)]

    figures = analyse_load(samples, restart_started=RESTART_STARTED, restart_ended=RESTART_ENDED)

    assert figures["outage_seconds"] is None
    assert (figures["during"], figures["during_errors"], figures["after"]) == (3, 2, 0)


def test_an_error_before_the_restart_is_reported_apart():
    samples = [sample(9.0, 500), sample(9.5, 200), sample(11.5, 200)]

    figures = analyse_load(samples, restart_started=RESTART_STARTED, restart_ended=RESTART_ENDED)

    assert (figures["before"], figures["before_errors"]) == (2, 1)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (502, {"statusCode": 502, "data": None, "success": False, "message": "x", "errors": ["x"]},
         True),
        # The healthcheck's 503 says which dependency is down in `data`.
        (503, {"statusCode": 503, "data": {"database": "down"}, "success": False, "message": "x",
               "errors": ["x"]}, True),
        (500, {"statusCode": 200, "data": None, "success": False, "message": "x", "errors": ["x"]},
         False),
        (500, {"statusCode": 500, "data": None, "success": False, "message": "", "errors": []},
         False),
        (500, None, False),  # an HTML or empty error page
        (200, {"statusCode": 200, "data": None, "success": True, "message": "x"}, False),
        (None, None, False),  # no answer at all
    ],
)  # fmt: skip
def test_error_envelope_recognition(status, body, expected):
    assert Answer(status, body).is_envelope_error is expected


def test_db_restart_is_refused_without_an_explicit_flag_and_starts_nothing(tmp_path):
    started = time.monotonic()

    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--scenario", "db-restart"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )

    assert result.returncode == faults.EXIT_BLOCKED == 2
    assert "refused: db-restart restarts PostgreSQL" in result.stderr
    assert "--i-know-this-restarts-postgres" in result.stderr
    # Refused before any run folder, database or server was made.
    assert "run folder" not in result.stdout
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    "arguments",
    [
        ["--threads", "0"],
        ["--threads", "33"],
        ["--load-seconds", "500"],
        ["--load-seconds", "10", "--restart-at", "10"],
        ["--upload-mb", "101"],
        ["--cloudinary-timeout", "0"],
        ["--cloudinary-timeout", "0.5"],  # settings.py reads whole seconds
        ["--scenario", "everything"],
        ["--private-postgres", "--i-know-this-restarts-postgres"],
    ],
)
def test_unbounded_or_contradictory_arguments_are_refused(arguments, capsys):
    with pytest.raises(SystemExit) as exit_info:
        faults.parse_args(arguments)

    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_the_defaults_are_the_documented_bounded_run():
    args = faults.parse_args([])

    assert (args.scenario, args.threads, args.load_seconds, args.restart_at) == ("all", 8, 12, 4)
    assert (args.upload_mb, args.cloudinary_timeout) == (60, 2)
    assert not args.i_know_this_restarts_postgres
    assert not args.private_postgres


def test_every_address_the_script_talks_to_is_loopback():
    source = SCRIPT.read_text()

    assert faults.HOST == "127.0.0.1"
    assert faults.SHARED_POSTGRES.startswith("postgres://postgres@127.0.0.1:")
    assert "0.0.0.0" not in source  # noqa: S104 - the point is its absence
    assert "localhost" not in source
