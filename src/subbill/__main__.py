"""``python -m subbill``: the command line of :mod:`subbill.cli`."""

import sys

from subbill.cli import main

if __name__ == "__main__":
    sys.exit(main())
