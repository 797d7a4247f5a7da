"""Where the tests find the real third-party files (bank statements, XSDs) in ``shared/testdata``.

They live beside the repository (``../shared/testdata``); a clone elsewhere names them with
``VAARWATER_SHARED_TESTDATA``, and on the project's machines they are also at
``/work/shared/testdata``.
"""

import os
from pathlib import Path

_CANDIDATES = [
    os.environ.get("VAARWATER_SHARED_TESTDATA", ""),
    str(Path(__file__).resolve().parents[2] / "shared" / "testdata"),
    "/work/shared/testdata",
]

SHARED_TESTDATA = next(
    (Path(path) for path in _CANDIDATES if path and Path(path).is_dir()), Path(_CANDIDATES[1])
)
