"""Use cases over a connection: every rule lives here once, called by the web layer and the CLI."""
