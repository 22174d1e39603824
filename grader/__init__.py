"""The course's grader: static checks of the learner's YAML (layer 1), the applied
state (layer 2) and real routing (layer 3), for each lab checkpoint.

In a notebook: `grader.check("checkpoint-3", manifests=path, namespace=ns)`.
"""

from grader.notebook import check
from grader.run import grade_live, grade_static

__all__ = ["check", "grade_live", "grade_static"]
