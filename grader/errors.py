"""The one exception the grader lets out: input or environment it cannot work with.

The CLI turns it into a message on stderr and exit status 2; notebooks show it as text.
Anything else escaping the grader is a bug, not a user error.
"""


class UnusableInput(Exception):
    """The submission or the environment cannot be graded at all (exit status 2)."""
