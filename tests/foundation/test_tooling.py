"""The test tooling: the `slow` marker, `make test-fast`, and a virtualenv per interpreter."""

import ast
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Fuzzing, tests that start a subprocess or a server, and races between threads against a live
# server: `make test-fast` leaves them out.
SLOW_MODULES = [
    "tests/fuzz/test_blackbox.py",
    "tests/accounts/test_races.py",
    "tests/security/test_races.py",
    "tests/social/test_races.py",
    "tests/social/test_delete_lock_order.py",
    "tests/playlists/test_playlist_races.py",
    "tests/videos/test_video_views_race.py",
    "tests/accounts/test_sqlite_run_path.py",
    "tests/docs/test_browsable_api.py",
    "tests/ops/test_deploy_check.py",
    "tests/ops/test_seed_demo.py",
    "tests/faults/test_cloudinary_faults.py",
    "tests/faults/test_celery_worker.py",
]


def _module_marks(path):
    """The source of the module-level ``pytestmark`` of a test file ("" when it has none)."""
    source = (ROOT / path).read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytestmark" for target in node.targets
        ):
            return ast.get_source_segment(source, node.value)
    return ""


def test_the_slow_marker_is_registered(pytestconfig):
    assert any(line.startswith("slow:") for line in pytestconfig.getini("markers"))


@pytest.mark.parametrize("path", SLOW_MODULES)
def test_the_slow_files_are_marked_as_a_whole(path):
    assert "pytest.mark.slow" in _module_marks(path)


def test_everyday_files_are_not_marked():
    assert "slow" not in _module_marks("tests/foundation/test_plumbing.py")
    assert "slow" not in _module_marks("tests/social/test_comments_api.py")


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


# What a calling make (`make test` running this file) passes down in the environment.
INHERITED = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PYTHON", "PYTEST_ARGS"}


def _make(*arguments):
    """What make would run, install steps included (``-n -B``: nothing is run or installed)."""
    environment = {name: value for name, value in os.environ.items() if name not in INHERITED}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout


@needs_make
def test_make_test_fast_is_make_test_without_the_slow_tests():
    fast = _make("test-fast", "PYTEST_ARGS=-x tests/videos")
    assert '.venv/bin/pytest -m "not slow" -x tests/videos' in fast

    everything = _make("test")
    assert "not slow" not in everything
    assert everything.rstrip().endswith(".venv/bin/pytest")


@needs_make
def test_another_python_gets_a_virtualenv_of_its_own():
    assert "python3 -m venv .venv\n" in _make("test")

    other = _make("test", "PYTHON=python3.13")
    assert "python3.13 -m venv var/venv-python3.13\n" in other
    assert "var/venv-python3.13/bin/pytest" in other
    assert ".venv/" not in other.replace("var/venv-python3.13", "")

    by_path = _make("test", "PYTHON=/opt/cpython/bin/python3.12")
    assert "/opt/cpython/bin/python3.12 -m venv var/venv-python3.12\n" in by_path


@needs_make
@pytest.mark.parametrize("target", ["run", "demo"])
def test_the_local_server_listens_on_port_or_8000(target):
    assert "runserver 127.0.0.1:${PORT:-8000}" in _make(target)
