"""``python -m hierdash``: see :mod:`hierdash.cli.fit_world`."""

import sys

from hierdash.cli.fit_world import main

if __name__ == "__main__":
    sys.exit(main())
