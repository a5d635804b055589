#!/usr/bin/env python
"""Convert a released ViCLIP checkpoint into a Hugging Face folder (same as `viclip convert`).

Example:
    python hub_scripts/convert_original_to_hf.py --checkpoint ViClip-InternVid-10M-FLT.pth \
        --output-dir ViCLIP-L-14-InternVid-10M-FLT --verify
"""

import sys

from viclip_cli import main

if __name__ == "__main__":
    sys.exit(main(["convert", *sys.argv[1:]]))
