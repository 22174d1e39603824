"""The course's grader: static checks of the learner's YAML (layer 1); live state and
routing checks (layers 2 and 3) build on the same labs, results and reports."""

from grader.run import grade_static

__all__ = ["grade_static"]
