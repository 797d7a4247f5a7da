"""One place that reads the environment (HackSoft ``config/env.py`` style)."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


class Env:
    """Typed access to ``VAARWATER_*`` environment variables with laptop-friendly defaults."""

    prefix = "VAARWATER_"

    def str(self, name: str, default: str | None = None) -> str | None:
        return os.environ.get(self.prefix + name, default)

    def bool(self, name: str, default: bool = False) -> bool:
        raw = os.environ.get(self.prefix + name)
        if raw is None or raw == "":
            return default
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ImproperlyConfigured(f"{self.prefix}{name}: expected true/false, got {raw!r}")

    def int(self, name: str, default: int) -> int:
        raw = os.environ.get(self.prefix + name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{self.prefix}{name}: expected an integer, got {raw!r}"
            ) from exc

    def list(self, name: str, default: list[str]) -> list[str]:
        raw = os.environ.get(self.prefix + name)
        if raw is None or raw == "":
            return default
        return [part.strip() for part in raw.split(",") if part.strip()]

    def path(self, name: str, default: Path) -> Path:
        raw = os.environ.get(self.prefix + name)
        return Path(raw) if raw else default


env = Env()
