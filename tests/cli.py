"""Running the `portal` command as a user would, on an embedded database of its own.

`portal()` runs it in this process, with the environment, arguments and exit the command would have: a new
interpreter per call costs over a second of importing, and the suite makes dozens of calls.
`portal_process()` runs it as a subprocess, for the few tests about the process itself."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from portal.cli import main


def environment(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "PORTAL_DATA_DIR": str(data_dir), "PORTAL_PASSWORD_PROFILE": "fast"}
    env.pop("PORTAL_DATABASE_URL", None)
    return env


def portal(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    saved = dict(os.environ)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    os.environ.clear()
    os.environ.update(environment(data_dir))
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exit_:
                if isinstance(exit_.code, str):  # sys.exit("error: …"): the interpreter prints it, exit 1
                    print(exit_.code, file=sys.stderr)
                    code = 1
                else:
                    code = exit_.code or 0
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(["portal", *args], code, out.getvalue(), err.getvalue())


def portal_process(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        env=environment(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
