"""``python -m hierdash``: see :mod:`hierdash.cli`."""

import sys

from hierdash.cli import main

if __name__ == "__main__":
    sys.exit(main())
