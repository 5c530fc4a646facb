"""Memory of the server under test, read from /proc (Linux only, stdlib only).

RSS is the figure reported: the sum of VmRSS of the server's master process and its workers.
That sum counts pages shared after fork() once per process, so it over-states the real footprint; PSS
(from smaps_rollup, shared pages split between their sharers) is recorded beside it.
"""

import os
import threading
import time
from pathlib import Path

PROC = Path("/proc")


def _children(pid):
    """Direct children of `pid` (every thread's children file; a scan of /proc as a fallback)."""
    task_dir = PROC / str(pid) / "task"
    try:
        found = set()
        for task in task_dir.iterdir():
            text = (task / "children").read_text()
            found.update(int(child) for child in text.split())
        return found
    except (FileNotFoundError, PermissionError, ProcessLookupError):
        pass
    found = set()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        # The command name may contain spaces and parentheses: split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def process_tree(root_pid):
    """`root_pid` and all its descendants that are still alive."""
    tree, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        if not (PROC / str(pid)).exists():
            continue
        tree.append(pid)
        todo.extend(_children(pid))
    return tree


def _kb_field(path, name):
    try:
        for line in path.read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    return 0


def tree_memory_kb(root_pid):
    """(sum of VmRSS, sum of Pss, pids) over the process tree, in kB."""
    pids = process_tree(root_pid)
    rss = sum(_kb_field(PROC / str(pid) / "status", "VmRSS") for pid in pids)
    pss = sum(_kb_field(PROC / str(pid) / "smaps_rollup", "Pss") for pid in pids)
    return rss, pss, pids


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root_pid):
    """CPU time (user + system) used so far by the tree, reaped children included.

    Dividing requests by the server's CPU seconds gives a throughput per core that holds even
    when other work shares the machine (the wall-clock rate does not).
    """
    total = 0
    for pid in process_tree(root_pid):
        try:
            fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # Fields after the name: state=0 ... utime=11, stime=12, cutime=13, cstime=14.
        total += sum(int(value) for value in fields[11:15])
    return total / _CLOCK_TICKS


class MemorySampler:
    """Samples the tree every `interval` seconds while active; keeps the peaks and the pids seen.

    ``with sampler.measuring():`` around the measured runs only, so warm-ups and the
    single-connection runs do not count (they cannot peak higher anyway).
    """

    def __init__(self, root_pid, interval=0.1):
        self.root_pid = root_pid
        self.interval = interval
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.pids_seen = set()
        self._active = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            if self._active.wait(timeout=0.5) and not self._stop.is_set():
                self.sample()
                time.sleep(self.interval)

    def sample(self):
        rss, pss, pids = tree_memory_kb(self.root_pid)
        self.peak_rss_kb = max(self.peak_rss_kb, rss)
        self.peak_pss_kb = max(self.peak_pss_kb, pss)
        self.pids_seen.update(pids)
        return rss, pss

    def measuring(self):
        sampler = self

        class _Window:
            def __enter__(self):
                sampler._active.set()

            def __exit__(self, *exc):
                sampler._active.clear()

        return _Window()

    def stop(self):
        self._stop.set()
        self._active.set()
        self._thread.join(timeout=2)


def pin_to_cpu(cpu):
    """Pin the calling process (the harness itself, and so wrk) away from the server's core."""
    if hasattr(os, "sched_setaffinity") and cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {cpu})
