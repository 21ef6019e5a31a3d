"""Reports of a Plan (and, after apply, of its outcomes): text, JSON and Markdown. Each renderer
returns a string; secrets are always shown as `(sensitive)`."""

from reconciler.report.json_report import VERSION as JSON_REPORT_VERSION
from reconciler.report.json_report import render_json, report_data
from reconciler.report.markdown import render_markdown
from reconciler.report.text import render_text

__all__ = ["JSON_REPORT_VERSION", "render_json", "render_markdown", "render_text", "report_data"]
