"""The ``beacon`` console script: Django management under Beacon's settings.

``beacon import-areas`` runs the ``import_areas`` command (hyphens or underscores both
work); ``beacon analyze ...`` runs the analytics library's CLI, which needs no database.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point for the ``beacon`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "analyze":
        from beacon.analytics.cli import main as analyze_main

        return analyze_main(args[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beacon.settings")
    from django.core.management import execute_from_command_line

    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    execute_from_command_line(["beacon", *args])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
