"""``python -m viclip``: the ``viclip`` command."""

import sys

from .commands import main

if __name__ == "__main__":
    sys.exit(main())
