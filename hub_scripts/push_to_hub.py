#!/usr/bin/env python
"""Upload a folder written by `viclip convert` to the Hugging Face Hub (same as `viclip push`).

Example:
    python hub_scripts/push_to_hub.py ViCLIP-L-14-InternVid-10M-FLT --repo-id you/ViCLIP-L-14 --dry-run
"""

import sys

from viclip_cli import main

if __name__ == "__main__":
    sys.exit(main(["push", *sys.argv[1:]]))
