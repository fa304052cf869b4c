"""Durable state of the stack, behind one small SQLite module.

Each component owns its tables (declared with :meth:`Database.register_schema`)
and its queries; this package only knows how to open, lock, commit and wake up
the readers who wait for new rows.
"""

from emulator.store.database import Database, StoreError, open_database

__all__ = ["Database", "StoreError", "open_database"]
