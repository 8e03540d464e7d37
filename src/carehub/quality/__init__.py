"""Data quality: check packs run on each submission (``compile``, ``evaluation``, ``runner``,
``results``), and coverage and timeliness of feeds (to come: scorecards, the issues register and
feedback reports)."""
