"""The lecturer's own words for a scenario: a title and a short note, shown on stage."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_NOTE", "MAX_TITLE", "Presentation"]

#: Longest title and note the stage shows (a caption, not a paragraph); longer text is cut with "…".
MAX_TITLE = 120
MAX_NOTE = 240


@dataclass(frozen=True)
class Presentation:
    """What the lecturer wrote for this scenario (both may be empty).

    Attributes
    ----------
    title : str
        The scenario's title ("Half padding keeps the size").
    note : str
        One or two sentences of the lecturer's own under it.
    """

    title: str = ""
    note: str = ""

    def shown(self) -> tuple[str, str]:
        """``(title, note)`` as the stage shows them: one line each, cut to ``MAX_TITLE``/``MAX_NOTE``."""
        return _one_line(self.title, MAX_TITLE), _one_line(self.note, MAX_NOTE)


def _one_line(text: str, limit: int) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"
