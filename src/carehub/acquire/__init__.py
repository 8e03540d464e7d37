"""Acquire: read partner files, run the whole-file checks and land them in the raw zone."""
