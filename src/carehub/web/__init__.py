"""The web app: server-rendered NHS design system pages, each with a JSON twin."""
