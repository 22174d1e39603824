"""Repository-wide pytest settings. Notebooks run unattended here (nbval, CI), so the
labs submit the reference solution: CI proves every lab is solvable."""

import os

os.environ.setdefault("FIRSTAPP_LAB_ANSWERS", "reference")
