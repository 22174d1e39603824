"""An unattended lab writes the reference solution to a file of its own: in a fresh
private folder (tempfile.mkdtemp), never at a predictable name in the shared temp folder,
where another local user's symlink would redirect the write (the course runs as root on
the local provider)."""

from __future__ import annotations

import stat
import tempfile

from course.labs import LABS
from firstapp.lab import Lab


def test_the_reference_submission_goes_to_a_private_folder_and_follows_no_planted_symlink(tmp_path, monkeypatch):
    shared = tmp_path / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    monkeypatch.setenv("FIRSTAPP_LAB_ANSWERS", "reference")
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    for name in ("firstapp-checkpoint-3-reference.yaml", "checkpoint-3-reference.yaml"):
        (shared / name).symlink_to(victim)  # what a local user could plant beforehand

    lab = Lab.__new__(Lab)  # no cluster: only the submission is made
    lab.checkpoint, lab.lab = "checkpoint-3", LABS["checkpoint-3"]
    path = lab.submission

    assert victim.read_text() == "precious\n"
    assert path.parent.parent == shared and path.parent.name.startswith("firstapp-")
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not path.is_symlink() and "kind: Service" in path.read_text()
    assert lab.submission == path  # made once
