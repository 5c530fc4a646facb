"""In debug mode, DRF's browsable API renders every GET endpoint as HTML."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_every_get_endpoint_renders_html_in_debug(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "FILE_UPLOAD_TEMP_DIR": str(tmp_path / "uploads"),
    }
    result = subprocess.run(
        [sys.executable, "tests/docs/browsable_api_probe.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report["statuses"]) >= 10
    assert {path: code for path, code in report["statuses"].items() if code != 200} == {}
    assert report["unmarked"] == []
