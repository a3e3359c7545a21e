"""The sandbox: the real bot against the built-in Bot API emulator, played in a browser page.

`python -m bot sandbox` (bot/sandbox/run.py) starts the same application as `python -m bot`
with a fake token, its own database under data/sandbox/ and a clock the page can move; the
tests use the emulator (bot/sandbox/emulator.py) on its own. Nothing in the bot imports this
package (an import contract in pyproject.toml): only the command line reaches it.
"""
