"""Use cases: one function (or small class) per thing a person does with the bot.

Each use case takes plain arguments and the shared `UseCaseContext`, owns its transaction
(including the dialog's next step when there is one), tells other features what happened
through the ports in `ports.py` (wired by the composition root), and returns a plain outcome
(a dataclass). The chat handlers, the command line, the scheduler and the web dashboard are
thin adapters: they parse input, call one use case and render its outcome.
"""
