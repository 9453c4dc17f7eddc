"""Settings of the web app, read from the environment (the library itself never reads it)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    db: str = "nongthon.db"
    require_viewer: bool = False  # reads need at least a viewer token when true
    max_upload_bytes: int = 20 * 1024 * 1024
    max_json_bytes: int = 1024 * 1024  # every other request body
    # projections run in worker processes of their own (api/jobs.py): this many at once, this many more waiting,
    # then 429 with Retry-After (seconds)
    projection_workers: int = 1
    projection_queue: int = 4
    projection_retry_after: int = 10
    max_runs_public: int = 2000  # Monte Carlo runs of a projection for readers without a token and viewers
    max_runs_editor: int = 10000  # for editors and admins

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            db=os.environ.get("NONGTHON_DB", "nongthon.db"),
            require_viewer=os.environ.get("NONGTHON_REQUIRE_VIEWER", "").lower() in ("1", "true", "yes", "co"),
            projection_workers=int(os.environ.get("NONGTHON_PROJECTION_WORKERS", cls.projection_workers)),
            projection_queue=int(os.environ.get("NONGTHON_PROJECTION_QUEUE", cls.projection_queue)),
        )
