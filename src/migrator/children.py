"""Child processes (extraction workers, the sync fetch helper) die with the run.

multiprocessing's forkserver children outlive a main process killed by SIGKILL: they
were found still running, holding pipes, 14 minutes later. :func:`die_with_parent`
runs first thing in each child: on Linux the kernel sends SIGKILL when the forkserver
that forked it exits (``PR_SET_PDEATHSIG``; the forkserver itself exits when the main
process is gone), and everywhere a daemon thread checks once a second that the main
process is alive. Children ignore SIGINT: Ctrl-C reaches the whole process group, and
the main process alone decides what an interrupt stops. Nothing here touches data.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_POLL_S = 1.0


def die_with_parent(main_pid: int) -> None:
    """Make this child process exit as soon as ``main_pid`` (the run) is gone.

    Args:
        main_pid: the pid of the process that runs the pipeline.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent or not _alive(main_pid):  # died before prctl took effect
        os._exit(1)
    threading.Thread(
        target=_watch, args=(main_pid, parent), name="die-with-parent", daemon=True
    ).start()


def _watch(main_pid: int, parent: int) -> None:
    while os.getppid() == parent and _alive(main_pid):
        time.sleep(_POLL_S)
    os._exit(1)  # no cleanup: the main process that owned this work is gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else (a reused pid): keep going
        return True
    return True
