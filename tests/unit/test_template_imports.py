"""Every macro a template imports exists where it is imported from: a renamed or moved macro fails here,
not as a server error on the one page that uses it."""

from __future__ import annotations

import re
from pathlib import Path

from portal.components import load_components
from portal.ui import TEMPLATE_DIR as KIT_TEMPLATES

IMPORT = re.compile(r'\{%-?\s*from\s+"([^"]+)"\s+import\s+(.+?)(?:\s+with(?:out)?\s+context)?\s*-?%\}')
MACRO = re.compile(r"\{%-?\s*macro\s+(\w+)\s*\(")


def template_dirs() -> list[Path]:
    found = [c.template_dir for c in load_components() if c.template_dir is not None]
    return [*found, KIT_TEMPLATES]


def test_every_imported_macro_is_defined_in_the_template_it_comes_from() -> None:
    dirs = template_dirs()
    missing, checked = [], 0
    for directory in dirs:
        for template in sorted(directory.rglob("*.html")):
            for source, names in IMPORT.findall(template.read_text(encoding="utf-8")):
                origin = next((d / source for d in dirs if (d / source).is_file()), None)
                assert origin is not None, f"{template}: imports from {source}, which no template folder has"
                defined = set(MACRO.findall(origin.read_text(encoding="utf-8")))
                for name in (n.strip() for n in names.split(",")):
                    checked += 1
                    if name not in defined:
                        missing.append(f"{template.relative_to(directory)}: {name} from {source}")
    assert checked > 20
    assert missing == []
