"""Errors whose message is meant for the person at the keyboard.

The CLI prints them without a traceback and the UI shows them in a dialog, so the
message must name the problem and, where there is one, the fix.
"""


class UserFacingError(Exception):
    """A problem the user can act on; ``str(exc)`` is the whole explanation."""
