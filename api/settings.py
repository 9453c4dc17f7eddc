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

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            db=os.environ.get("NONGTHON_DB", "nongthon.db"),
            require_viewer=os.environ.get("NONGTHON_REQUIRE_VIEWER", "").lower() in ("1", "true", "yes", "co"),
        )
