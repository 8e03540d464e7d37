"""KPI definitions, the runner and SPC (Making Data Count)."""
