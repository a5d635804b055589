"""Prepared shards as embedding inputs: the reading and decoding live in :mod:`viclip.inference.prepared`, shared
with ``viclip score``."""

from ..inference.prepared import READ_COLUMNS, decode_prepared_batch, prepared_keys, prepared_shards

__all__ = ["READ_COLUMNS", "decode_prepared_batch", "prepared_keys", "prepared_shards"]
