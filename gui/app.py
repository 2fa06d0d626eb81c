"""Application entry point."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Start the app; returns the process exit code."""
    raise SystemExit("the window arrives with the main-window issue")
