"""`python -m bot`: the command line lives in bot/app/cli.py."""

import sys

from bot.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
