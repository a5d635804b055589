"""`ViCLIPError`, the base of every error the library raises on purpose (``viclip.errors`` is its public home).

It is defined here, in the processing package with no imports, because the processor's remote code is copied flat
into every Hub folder with its sibling imports: ``video_reading.py`` (whose `VideoDecodeError` derives from it)
can carry this file along, and a folder loads with ``trust_remote_code`` where viclip is not installed.
"""


class ViCLIPError(Exception):
    """An error raised by viclip (a bad file, a bad setting, a failed conversion): its message names the cause."""
