"""The one exception type for user errors (bad input, impossible parameters).

The CLI turns a :class:`TextmineError` into a one-line ``Error: ...`` and exit code 1;
anything else is a bug and keeps its traceback.
"""


class TextmineError(ValueError):
    """A problem with the user's input or parameters; the message names the fix."""
