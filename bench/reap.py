#!/usr/bin/env python3
"""Runs a command as a child subreaper, so that the CPU time of every process it starts is
counted: `/usr/bin/time bench/reap.py CMD...`. Processes that the command forks and does not
wait for (Locust's `--processes` workers can outlive its master) are re-parented here, not to
init, and are waited for here, so their user+sys time lands in this process's children's usage,
which /usr/bin/time reports. Exits with the command's exit status once every descendant ended."""
import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36
if len(sys.argv) < 2:
    sys.exit("usage: reap.py CMD [ARG...]")
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit(f"reap.py: prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    except OSError as e:
        sys.stderr.write(f"reap.py: {sys.argv[1]}: {e.strerror}\n")
        os._exit(127)
code = 0
while True:
    try:
        p, status = os.wait()
    except ChildProcessError:
        break
    if p == pid:
        code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
