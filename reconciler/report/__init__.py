"""Reports of a Plan (and, after apply, of its outcomes): text, JSON, Markdown and HTML (`report.html`,
imported from there: it renders a whole run). Each renderer
returns a string; secrets are always shown as `(sensitive)` (the `Secret` type first, then the
process's redactor over the rendered text, for any value that came back in another form), and
untrusted text is escaped for its format (`reconciler.textsafe`)."""

from typing import TYPE_CHECKING

from reconciler.lazy import lazy_exports

if TYPE_CHECKING:  # imported on first use (reconciler/lazy.py)
    from reconciler.report.json_report import render_json
    from reconciler.report.markdown import render_markdown
    from reconciler.report.text import render_text
else:
    __getattr__ = lazy_exports(__name__, __file__)

__all__ = ["render_json", "render_markdown", "render_text"]
