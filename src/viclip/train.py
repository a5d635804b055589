"""``python -m viclip.train`` / ``accelerate launch -m viclip.train``: the same as `viclip train`
(:mod:`viclip.training.train`)."""

import sys

from .training.train import main

if __name__ == "__main__":
    sys.exit(main())
