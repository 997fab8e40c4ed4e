"""Reviews the tests run keep their cache in a temporary folder, never in the fixtures."""

from __future__ import annotations

import os
import tempfile

from fastapi_architect.review.cache import CACHE_DIR_ENV

# Set at import, before any test (or subprocess it starts) runs a review.
os.environ.setdefault(CACHE_DIR_ENV, tempfile.mkdtemp(prefix="fastapi-architect-cache-"))
