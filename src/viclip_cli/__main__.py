"""``python -m viclip_cli``: the ``viclip`` command (as light as the console script)."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
