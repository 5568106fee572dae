"""The eval report: a Markdown summary and a self-contained HTML page with plots and failing cases."""

from evals.report.legacy import render_html, render_markdown, write_report

__all__ = ["render_html", "render_markdown", "write_report"]
