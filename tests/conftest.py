"""Suite-wide test settings.

Property tests explore new random examples on every local run (that is how they find bugs); on CI
(``CI`` set) they run a fixed, derandomized sequence so a landing never depends on luck. A
failure found locally becomes an explicit regression test.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
