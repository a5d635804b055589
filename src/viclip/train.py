"""``python -m viclip.train`` / ``accelerate launch -m viclip.train`` / ``torchrun -m viclip.train``: the same as
``viclip train``."""

import sys

from viclip_cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
