"""The `carehub` command line (Typer)."""
