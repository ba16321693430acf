"""Small text helpers shared by every stage (a leaf module: it imports nothing of ours)."""

from __future__ import annotations


def shorten(code: str, limit: int = 40) -> str:
    """Source text on one line, cut to ``limit`` characters with "..." (for messages)."""
    code = " ".join(code.split())
    return code if len(code) <= limit else code[: limit - 3] + "..."
