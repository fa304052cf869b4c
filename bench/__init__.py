"""Benchmarks of ``make bench``: each ``bench_<topic>.py`` module has ``run()``."""
