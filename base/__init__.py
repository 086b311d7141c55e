"""sitegate's base layer: what facts and engine both stand on.

Diagnostics (source, pointer, line, column), JSON position maps, text
decoding (BOMs, UTF-16/32, size limits) and safe YAML loading with a line
map. Nothing here imports ``sitegate.facts``, ``sitegate.engine`` or
``sitegate.cli``: the layers above point down to it, never the other way.
"""
