"""tests/kind runs only in the kind phase of ./run-tests (tests/kind/run.sh), which
brings the kind cluster up first and sets FIRSTAPP_KIND_PHASE; the first phase, against
the local provider, does not collect it."""

import os

collect_ignore_glob = [] if os.environ.get("FIRSTAPP_KIND_PHASE") else ["test_*.py"]
