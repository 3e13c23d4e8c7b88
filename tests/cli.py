"""Running the `portal` command as a user would: a subprocess on an embedded database of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def portal(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PORTAL_DATA_DIR": str(data_dir), "PORTAL_PASSWORD_PROFILE": "fast"}
    env.pop("PORTAL_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
