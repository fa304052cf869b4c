"""pytest plugin of the emulator (registered through the ``pytest11`` entry point).

TODO(plugin): placeholder until the plugin issue lands; it must stay importable.
"""
