"""Cutting the demo content in `fixtures/` from the real published files, so that anyone can
cut it again: each module reads a file with its importer's parser and writes the rows the demo
needs as JSON."""
