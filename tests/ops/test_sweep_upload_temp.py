"""sweep_upload_temp: removes the upload temp files that killed workers leave behind."""

import io
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from media.tasks import sweep_upload_temp

REPO = Path(__file__).resolve().parents[2]
HOUR = 3600


def make_file(folder, name, *, age_seconds, size=10):
    path = Path(folder) / name
    path.write_bytes(b"x" * size)
    moment = time.time() - age_seconds
    os.utime(path, (moment, moment))
    return path


def sweep(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("sweep_upload_temp", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def names_in(folder):
    return sorted(p.name for p in Path(folder).iterdir())


@pytest.fixture
def temp_dir(settings):
    return Path(settings.FILE_UPLOAD_TEMP_DIR)


def test_it_removes_old_upload_temp_files_and_keeps_young_and_foreign_ones(temp_dir):
    make_file(temp_dir, "tmpold1.upload.mp4", age_seconds=2 * HOUR, size=2048)
    make_file(temp_dir, "tmpold2.upload", age_seconds=61 * 60)
    make_file(temp_dir, "tmpold3.probe", age_seconds=3 * HOUR)
    make_file(temp_dir, "tmpyoung.upload.webm", age_seconds=5 * 60)
    make_file(temp_dir, "notes.txt", age_seconds=10 * HOUR)  # not an upload temp file
    (temp_dir / "folder.upload").mkdir()
    target = make_file(temp_dir.parent, "precious.upload.mp4", age_seconds=5 * HOUR)
    (temp_dir / "link.upload").symlink_to(target)

    out, err = sweep()

    assert names_in(temp_dir) == [
        "folder.upload",
        "link.upload",
        "notes.txt",
        "tmpyoung.upload.webm",
    ]
    assert target.exists()  # a symlink is never followed
    lines = out.splitlines()
    assert lines[0] == f"Removed {temp_dir}/tmpold1.upload.mp4 (2.0 KB, last written 2 h 0 min ago)"
    assert lines[1] == f"Removed {temp_dir}/tmpold2.upload (10 B, last written 1 h 1 min ago)"
    assert lines[2] == f"Removed {temp_dir}/tmpold3.probe (10 B, last written 3 h 0 min ago)"
    assert lines[3] == (
        f"Removed 3 file(s), 2.0 KB; kept 1 written in the last 60 minutes, in {temp_dir}."
    )
    assert err == ""


def test_older_than_moves_the_guard(temp_dir):
    make_file(temp_dir, "a.upload.mp4", age_seconds=20 * 60)
    make_file(temp_dir, "b.upload.mp4", age_seconds=5 * 60)

    out, _ = sweep("--older-than", "10")

    assert names_in(temp_dir) == ["b.upload.mp4"]
    assert "Removed 1 file(s)" in out
    assert "kept 1 written in the last 10 minutes" in out


def test_older_than_zero_sweeps_everything_at_start_up(temp_dir):
    make_file(temp_dir, "a.upload.mp4", age_seconds=0)
    make_file(temp_dir, "b.probe", age_seconds=0)

    out, _ = sweep("--older-than", "0")

    assert names_in(temp_dir) == []
    assert "Removed 2 file(s)" in out


def test_dry_run_lists_and_removes_nothing(temp_dir):
    make_file(temp_dir, "a.upload.mp4", age_seconds=2 * HOUR)

    out, _ = sweep("--dry-run")

    assert names_in(temp_dir) == ["a.upload.mp4"]
    assert f"Would remove {temp_dir}/a.upload.mp4" in out
    assert "Would remove 1 file(s)" in out


def test_an_empty_folder_is_reported_plainly(temp_dir):
    out, _ = sweep()
    assert (
        out.strip()
        == f"Removed 0 file(s), 0 B; kept 0 written in the last 60 minutes, in {temp_dir}."
    )


def test_negative_age_is_refused(temp_dir):
    make_file(temp_dir, "a.upload.mp4", age_seconds=2 * HOUR)
    with pytest.raises(CommandError, match="--older-than must be 0 or more"):
        sweep("--older-than", "-5")
    assert names_in(temp_dir) == ["a.upload.mp4"]


def test_it_refuses_to_sweep_the_system_temp_folder(settings):
    settings.FILE_UPLOAD_TEMP_DIR = None
    with pytest.raises(CommandError, match="FILE_UPLOAD_TEMP_DIR is not set"):
        sweep()


def test_a_missing_folder_is_an_error(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "nowhere")
    with pytest.raises(CommandError, match="is not a folder"):
        sweep()


def test_a_file_that_cannot_be_removed_is_reported_and_fails_the_run(temp_dir, monkeypatch):
    make_file(temp_dir, "a.upload.mp4", age_seconds=2 * HOUR)
    make_file(temp_dir, "b.upload.mp4", age_seconds=2 * HOUR)
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if str(path).endswith("a.upload.mp4"):
            raise PermissionError(13, "Permission denied")
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 file\\(s\\) could not be removed"):
        call_command("sweep_upload_temp", stdout=out, stderr=err)
    assert f"Could not remove {temp_dir}/a.upload.mp4: Permission denied" in err.getvalue()
    assert names_in(temp_dir) == ["a.upload.mp4"]


def test_the_temp_file_of_a_killed_worker_is_swept(tmp_path):
    """A process spooling an upload with Django's own handler is SIGKILLed: its temp file stays
    behind (nothing runs at exit), and the sweeper recognises and removes it once it is old."""
    uploads = tmp_path / "killed-uploads"
    uploads.mkdir()
    script = (
        "import os, django; django.setup();"
        "from django.core.files.uploadedfile import TemporaryUploadedFile;"
        "upload = TemporaryUploadedFile('clip.mp4', 'video/mp4', 0, None);"
        "upload.write(b'x' * 4096); upload.flush();"
        "os.kill(os.getpid(), 9)"
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "viztube.settings",
        "DEBUG": "1",
        "SECRET_KEY": "sweeper-test-secret-key-0123456789-0123456789-012345",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "FILE_UPLOAD_TEMP_DIR": str(uploads),
    }
    worker = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, timeout=60)
    assert worker.returncode == -9
    leftovers = list(uploads.iterdir())
    assert len(leftovers) == 1
    assert leftovers[0].name.endswith(".upload.mp4")

    from django.test import override_settings

    with override_settings(FILE_UPLOAD_TEMP_DIR=str(uploads)):
        out, _ = sweep()
        assert list(uploads.iterdir()) == leftovers  # young: might still be uploading
        moment = time.time() - 2 * HOUR
        os.utime(leftovers[0], (moment, moment))
        out, _ = sweep()
    assert list(uploads.iterdir()) == []
    assert f"Removed {leftovers[0]}" in out


def test_help_text(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("sweep_upload_temp", "--help")
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--older-than" in text
    assert "--dry-run" in text
    assert "FILE_UPLOAD_TEMP_DIR" in text


def test_the_periodic_task_sweeps_with_the_default_guard_and_logs_what_it_removed(temp_dir, caplog):
    make_file(temp_dir, "tmpold.upload.mp4", age_seconds=2 * HOUR, size=2048)
    make_file(temp_dir, "tmpyoung.upload.mp4", age_seconds=5 * 60)

    with caplog.at_level(logging.INFO, logger="media.tasks"):
        result = sweep_upload_temp.apply()

    assert result.result == {"removed": 1, "failed": 0, "kept": 1}
    assert names_in(temp_dir) == ["tmpyoung.upload.mp4"]
    assert [r.getMessage() for r in caplog.records if r.name == "media.tasks"] == [
        f"Removed {temp_dir}/tmpold.upload.mp4 (2.0 KB, last written 2 h 0 min ago)",
        f"Removed 1 file(s), 2.0 KB; kept 1 written in the last 60 minutes, in {temp_dir}.",
    ]
