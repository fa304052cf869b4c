"""Shared fixtures of the project's own test suite."""
