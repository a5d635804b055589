"""``python -m viclip``: the ``viclip`` command."""

import sys

from viclip_cli import main

if __name__ == "__main__":
    sys.exit(main())
