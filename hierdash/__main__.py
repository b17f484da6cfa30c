"""``python -m hierdash``: the command line (:func:`hierdash.cli.main`)."""

import sys

from hierdash.cli import main

if __name__ == "__main__":
    sys.exit(main())
