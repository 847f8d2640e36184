"""rectify's pure core: workflows, policy, deadlines and the interfaces the adapters implement.

It takes text and data and returns decisions: it never reads a file, the environment or
the clock (adapters/sitefiles.py reads the site's files and `RECTIFY_*`, adapters/clock.py
is the wall clock; `make lint` enforces it)."""
