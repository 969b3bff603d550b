"""The `widget-server` command line: argument parsing and printing; the work is done by services."""
