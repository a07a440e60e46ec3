"""Where the embedded stack keeps its AWS state (decision 0038): CASEFLOW_STATE_DIR, else var/state."""

from chalicelib import settings
from chalicelib.local.runtime import ROOT, local_environment


def test_the_state_folder_is_unset_unless_given():
    assert settings.from_environ({}).state_dir is None
    assert settings.from_environ({settings.STATE_DIR: "/tmp/kept"}).state_dir == "/tmp/kept"


def test_make_run_keeps_its_state_under_var_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv(settings.STATE_DIR, raising=False)
    assert local_environment()[settings.STATE_DIR] == str(ROOT / "var" / "state")
    monkeypatch.setenv(settings.STATE_DIR, "/tmp/elsewhere")
    assert local_environment()[settings.STATE_DIR] == "/tmp/elsewhere"
