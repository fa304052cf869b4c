"""A local, offline stand-in for Segment and LiveLike.

The package is laid out one folder per emulated service (:mod:`emulator.segment`,
:mod:`emulator.livelike`) and one per component (:mod:`emulator.actions`,
:mod:`emulator.contracts`, :mod:`emulator.generator`); ``ARCHITECTURE.md`` names
the layers and which may import which.
"""

__version__ = "0.1.0"
