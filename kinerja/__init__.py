"""Kinerja: command line, process supervisor, settings and clock."""
