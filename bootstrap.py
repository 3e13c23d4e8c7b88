#!/usr/bin/env python3
"""Set up and run the portal, or set up and test it, on a machine that has nothing but python3.

    python3 bootstrap.py run    # virtualenv + install + migrate SQLite + demo data + serve on :8000
    python3 bootstrap.py test   # virtualenv + install + the whole suite on SQLite and PostgreSQL

Only the standard library is used here. Extra arguments go to `portal serve` or to pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_environment() -> Path:
    python = BIN / ("python.exe" if os.name == "nt" else "python")
    if not python.exists():
        print("creating virtual environment in .venv", flush=True)
        venv.create(VENV, with_pip=True)
    stamp = VENV / ".portal-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        print("installing the portal and its dependencies", flush=True)
        subprocess.check_call([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        subprocess.check_call([str(python), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]"])
        stamp.write_text(digest)
    return python


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__)
        return 2
    python = ensure_environment()
    os.chdir(ROOT)
    if argv[0] == "run":
        command = [str(BIN / "portal"), "serve", "--demo", *argv[1:]]
    else:
        # The two database lanes run side by side, one per core (tests/conftest.py hands each lane's
        # tests to one process, which builds that lane's world once).
        command = [str(python), "-m", "pytest", "-n", "2", *argv[1:]]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
