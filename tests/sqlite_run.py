"""The local run path (`make run`: SQLite, local media, DEBUG) in subprocesses, for the tests
that prove it on a fresh database."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANAGE = [sys.executable, str(ROOT / "manage.py")]


class SqliteRun:
    """A fresh SQLite database and media folder under ``folder``, and ``manage.py`` on them."""

    def __init__(self, folder):
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "DEBUG": "1",
            "SECRET_KEY": "sqlite-run-path-test-key-0123456789abcdefghijklmnop",
            "MEDIA_ROOT": str(folder / "media"),
            "FILE_UPLOAD_TEMP_DIR": str(folder / "uploads"),
        }
        for name in ("REDIS_URL", "CLOUDINARY_URL"):
            self.env.pop(name, None)

    def manage(self, *arguments, timeout=240):
        """Run ``manage.py``; the finished process (it must have succeeded)."""
        run = subprocess.run(
            [*MANAGE, *arguments],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        return run

    def shell(self, script, tag):
        """Run ``script`` in ``manage.py shell``; the JSON it printed after ``tag``."""
        run = self.manage("shell", "-c", script, timeout=120)
        line = next(line for line in run.stdout.splitlines() if line.startswith(tag + " "))
        return json.loads(line.removeprefix(tag + " "))

    def server(self, port):
        """``manage.py runserver`` on 127.0.0.1:``port``, as `make run` starts it."""
        return subprocess.Popen(
            [*MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
