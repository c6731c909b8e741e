"""Whether the package runs from a source checkout, whose data/ and datasette.yaml it then uses."""

from __future__ import annotations

from pathlib import Path


def checkout_root() -> Path | None:
    """The repository the package runs from (an editable install), or None for an installed copy.

    A repository is the folder above src/ whose pyproject.toml names this package: an installed
    copy may lie in a folder that also holds a data/ or a datasette.yaml of someone else's.
    """
    package_dir = Path(__file__).resolve().parent
    if package_dir.parent.name != "src":
        return None
    root = package_dir.parent.parent
    try:
        pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return root if 'name = "wic-events"' in pyproject else None
