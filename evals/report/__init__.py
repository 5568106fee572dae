"""The eval report: a short Markdown summary for a pull request and a self-contained HTML page for QA leads.

Both render an `EvalRun`. The Markdown holds the gate (each checked metric against its limit and the baseline),
every suite's metrics and how many cases failed. The HTML page adds what lies behind the numbers: the per-class
scores, the confusion matrix, the reliability diagram, the risk-coverage curve, the per-LOB chart and every
failing case with the ticket and what the copilot produced.

formatting: the numbers and texts both share; markdown: the summary; plots: the matplotlib figures;
html: the page, from the Jinja2 templates in templates/; writer: the files.
"""

from evals.report.markdown import render_markdown
from evals.report.page import render_html
from evals.report.writer import write_report

__all__ = ["render_html", "render_markdown", "write_report"]
