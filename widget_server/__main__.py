"""`python -m widget_server`: the same as the `widget-server` command."""

import sys

from widget_server.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
