#!/usr/bin/env python
"""Django's command-line utility for Beacon (the ``beacon`` script does the same)."""

import sys

from beacon.cli import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
