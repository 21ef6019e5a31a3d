"""An HTML page taken apart by the standard library's parser: its tags, attributes, text, style and
script, to check that nothing from git or APIM became markup and that the policy allows what runs."""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

MARKUP = frozenset(
    (
        "html", "head", "meta", "title", "style", "script", "noscript", "body", "header", "nav", "main",
        "footer", "section", "h1", "h2", "h3", "p", "a", "span", "strong", "b", "code", "pre", "div",
        "details", "summary", "table", "thead", "tbody", "tr", "th", "td", "time",
    )
)  # fmt: skip
"""Every tag the reconciler's pages are made of: an injected `<img>` or `<svg>` would not be in it."""


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self._inside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "script"):
            self._inside.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._inside and self._inside[-1] == tag:
            self._inside.pop()

    def handle_data(self, data: str) -> None:
        if self._inside:
            (self.styles if self._inside[-1] == "style" else self.scripts).append(data)
        else:
            self.text.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)

    def attributes(self) -> list[tuple[str, str, str | None]]:
        return [(tag, name, value) for tag, attrs in self.tags for name, value in attrs.items()]


def parse(page: str) -> Page:
    parsed = Page()
    parsed.feed(page)
    parsed.close()
    return parsed


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def assert_only_our_markup(page: Page, *, scripts: int) -> None:
    """No tag outside MARKUP, no event handler or inline style attribute, no link out of the page
    but to the daemon's own paths, and exactly `scripts` scripts."""
    foreign = {tag for tag, _ in page.tags} - MARKUP
    assert not foreign, f"tags that are not ours: {foreign}"
    handlers = [(tag, name) for tag, name, _ in page.attributes() if name.startswith("on") or name == "style"]
    assert not handlers, f"event handlers or inline styles: {handlers}"
    links = [value for tag, name, value in page.attributes() if name in ("href", "src", "action")]
    assert all(str(link).startswith("/") and not str(link).startswith("//") for link in links), links
    assert len(page.scripts) == scripts, page.scripts
