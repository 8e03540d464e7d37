"""Data quality: coverage and timeliness of feeds (and, to come, checks, scorecards and issues)."""
