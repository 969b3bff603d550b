"""Policy texts: the hash of exactly what a visitor was shown, and a title taken from a file."""

from __future__ import annotations

import hashlib
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

_ATX_HEADING = re.compile(r" {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*")
_SETEXT_UNDERLINE = re.compile(r" {0,3}(?:=+|-+)[ \t]*")
_MD = MarkdownIt("commonmark", {"html": False})


def policy_sha256(title: str, body: str) -> str:
    """The hash of the exact text a visitor was shown: title, a newline, then the body."""
    return hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()


def split_title(text: str) -> tuple[str | None, str]:
    """The first Markdown heading (when it opens the file) and the rest as the body."""
    lines = text.splitlines()
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i < len(lines):
        atx = _ATX_HEADING.fullmatch(lines[i])
        if atx:
            return atx.group(1).strip(), "\n".join(lines[i + 1 :]).strip("\n")
        if i + 1 < len(lines) and lines[i].strip() and _SETEXT_UNDERLINE.fullmatch(lines[i + 1]):
            return lines[i].strip(), "\n".join(lines[i + 2 :]).strip("\n")
    return None, text.strip("\n")


def _inline_text(token: Token) -> str:
    """An inline token's words without Markdown syntax (link and image targets dropped)."""
    parts = []
    for child in token.children or ():
        if child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "image":
            parts.append(child.content)  # its alt text
    return " ".join("".join(parts).split())


def summary(body: str) -> str:
    """The policy's first paragraph as plain text (Markdown syntax removed)."""
    tokens = _MD.parse(body)
    for i, token in enumerate(tokens):
        if token.type == "paragraph_open" and i + 1 < len(tokens):
            return _inline_text(tokens[i + 1])
    return ""


def plain_text(body: str, title: str = "") -> str:
    """The whole policy as plain paragraphs separated by blank lines, for the widget's full-text
    view (which shows it as text only): headings become paragraphs, list items get a bullet or
    their number, and a first heading that only repeats the title is left out."""
    blocks: list[str] = []
    lists: list[int | None] = []  # per open list: the next number, or None for bullets
    marker = ""
    tokens = _MD.parse(body)
    if (
        tokens
        and tokens[0].type == "heading_open"
        and _inline_text(tokens[1]) == " ".join(title.split())
    ):
        del tokens[:3]
    for token in tokens:
        if token.type == "bullet_list_open":
            lists.append(None)
        elif token.type == "ordered_list_open":
            lists.append(int(token.attrGet("start") or 1))
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open":
            number = lists[-1]
            marker = "• " if number is None else f"{number}. "
            if number is not None:
                lists[-1] = number + 1
        elif token.type == "inline":
            blocks.append(marker + _inline_text(token))
            marker = ""
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
    return "\n\n".join(b for b in blocks if b.strip())
