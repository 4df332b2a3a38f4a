import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("TEXTMINE_SHARED_DATA", ROOT.parent / "shared" / "data"))
SAMPLE = ROOT / "data" / "song_ci_sample.txt"
JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("0", "")


def shared_file(*parts):
    """Path to a file in ../shared/data, or skip the test when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"evaluation data {p} not available")
    return p


@pytest.fixture
def shared():
    return shared_file
