"""Per-process machinery: group commit, the site cache and its listener, rate limits, logs, serving."""
