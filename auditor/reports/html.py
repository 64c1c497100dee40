"""One self-contained HTML page: summaries, the network drawn inline, a filterable findings table, evidence.

Fetches nothing, runs no data.

Every piece of finding text comes from the audited accounts (tag values, descriptions), so all of it goes
through `html.escape`, and none of it reaches the script: rows are rendered here, and the script only
shows and hides them by their data attributes. The Content-Security-Policy allows only this page's own
style and script (by hash), so even an escaping bug could neither run a script nor fetch a URL.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from html import escape
from typing import Any

from auditor.engine import SEVERITIES, Finding, load_rules
from auditor.reports import Report

CSS = """
:root { --border: #d0d7de; --muted: #57606a; --bg-alt: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0 auto;
       padding: 1.5rem; max-width: 1400px; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
.summaries { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--border); padding: .35rem .6rem; text-align: left; vertical-align: top; }
th { background: var(--bg-alt); }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
#findings { width: 100%; }
#findings td { overflow-wrap: anywhere; }
#findings td.key { overflow-wrap: normal; }
.sev { display: inline-block; min-width: 5.5em; padding: .05rem .4rem; border-radius: 3px; color: #fff;
       font-weight: 600; font-size: .8rem; text-align: center; text-transform: uppercase; }
.sev-critical { background: #6e0b14; } .sev-high { background: #cf222e; } .sev-medium { background: #bc4c00; }
.sev-low { background: #0969da; } .sev-info { background: #6e7781; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--bg-alt); border: 1px solid var(--border); padding: .5rem; margin: .25rem 0;
      white-space: pre-wrap; overflow-wrap: anywhere; max-height: 30rem; overflow: auto; }
.title { font-weight: 600; }
.message { white-space: pre-wrap; margin: .2rem 0; }
.related, .arn { color: var(--muted); font-size: .85rem; }
details summary { cursor: pointer; color: #0969da; }
tr.suppressed { background: #fafafa; color: var(--muted); }
.badge { display: inline-block; border: 1px solid var(--muted); border-radius: 3px; padding: 0 .3rem;
         font-size: .75rem; text-transform: uppercase; }
.suppression { font-size: .85rem; margin: .2rem 0; }
#filters { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; margin: .5rem 0 .75rem;
           padding: .5rem .75rem; background: var(--bg-alt); border: 1px solid var(--border); }
#filters label { display: inline-flex; gap: .35rem; align-items: center; }
#filters[hidden], tr[hidden] { display: none; }
.network-graph { overflow: auto; max-height: 48rem; border: 1px solid var(--border); margin: .25rem 0 .5rem; }
.network-graph svg { display: block; }
@media print { #filters { display: none; } details { display: block; } .network-graph { max-height: none; } }
""".strip()

# Shows the rows whose data attributes match every filter. Reads no finding text, only the form's values.
SCRIPT = """
(() => {
  "use strict";
  const form = document.getElementById("filters");
  if (!form) return;
  const rows = Array.from(document.querySelectorAll("#findings tbody tr.finding"));
  const shown = document.getElementById("shown");
  const noMatch = document.getElementById("no-match");
  const apply = () => {
    const severity = form.elements.severity.value;
    const account = form.elements.account.value;
    const rule = form.elements.rule.value;
    const withSuppressed = form.elements.suppressed.checked;
    let count = 0;
    for (const row of rows) {
      const data = row.dataset;
      const visible = (!severity || data.severity === severity) && (!account || data.account === account)
        && (!rule || data.rule === rule) && (withSuppressed || data.suppressed !== "true");
      row.hidden = !visible;
      if (visible) count += 1;
    }
    shown.textContent = String(count);
    noMatch.hidden = count !== 0;
  };
  form.addEventListener("change", apply);
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("reset", () => setTimeout(apply, 0));
  form.hidden = false;
  apply();
})();
""".strip()


MAX_GRAPH_NODES = 400  # past this the picture is unreadable, and the page heavy


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# No default source at all: no fetch, image, font, frame or form target; only the two blocks above run.
CONTENT_SECURITY_POLICY = (f"default-src 'none'; style-src {_csp_hash(CSS)}; script-src {_csp_hash(SCRIPT)}; "
                           "base-uri 'none'; form-action 'none'")


def render(report: Report) -> str:
    findings = report.result.findings
    title = f"Network audit: {len(report.active)} finding(s), {len(report.suppressed)} suppressed"
    by_severity = [(s, [f for f in findings if f.severity == s]) for s in SEVERITIES]
    body = [f"<h1>{escape(title)}</h1>", _meta(report), '<div class="summaries">',
            _count_table("By severity", "severity", by_severity),
            _count_table("By rule family", "family", _by_family(findings)), "</div>", _network(report)]
    if findings:
        body += ["<h2>Findings</h2>", _filters(report), _findings_table(findings)]
    else:
        body.append("<p>No findings.</p>")
    body.append(_expired(report))
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        *[part for part in body if part], f"<script>{SCRIPT}</script>", "</body>", "</html>",
    ]) + "\n"


def _meta(report: Report) -> str:
    summary = report.snapshot_summary()
    collected = summary["collected_at"] or "at an unknown time"
    accounts, regions = summary["accounts"], summary["regions"]
    text = (f"Generated {report.generated_at} from a snapshot collected {collected}: "
            f"{len(accounts)} account(s) ({', '.join(accounts) or 'none'}), "
            f"{len(regions)} region(s) ({', '.join(regions) or 'none'})")
    if summary["errors"]:
        text += f"; {summary['errors']} read error(s), see AUD001"
    return f'<p class="meta">{escape(text)}.</p>'


def _network(report: Report) -> str:
    """The network drawn as inline SVG (auditor.graph), marked with this report's findings; "" when there is nothing."""
    from auditor.graph import build_graph
    from auditor.graph_svg import render_svg
    from auditor.index import Index

    if not report.snapshot.get("accounts"):
        return ""
    graph = build_graph(Index(report.snapshot), report.result.findings)
    if not graph.nodes:
        return ""
    heading = (f'<h2>Network</h2><p class="meta">{len(graph.nodes)} nodes and {len(graph.edges)} links, each marked '
               "with the highest severity of its findings; <code>auditor graph --format dot|mermaid|json</code> gives "
               "the same graph as text.</p>")
    if len(graph.nodes) > MAX_GRAPH_NODES:
        return f"{heading}<p>Too many nodes to draw here (over {MAX_GRAPH_NODES}): use <code>auditor graph</code>.</p>"
    return f'{heading}<div class="network-graph">{render_svg(graph)}</div>'


def _by_family(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    rules = load_rules()
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        rule = rules.get(finding.rule_id)
        family = rule.family if rule else finding.rule_id.rstrip("0123456789")
        groups.setdefault(family, []).append(finding)
    return sorted(groups.items())


def _count_table(caption: str, label: str, rows: list[tuple[str, list[Finding]]]) -> str:
    lines = [f'<table class="summary" id="by-{label}"><caption>{escape(caption)}</caption>',
             f"<thead><tr><th>{escape(label)}</th><th>findings</th><th>suppressed</th></tr></thead><tbody>"]
    for name, items in rows:
        if items:
            suppressed = Counter(f.suppressed for f in items)[True]
            lines.append(f"<tr><td>{escape(name)}</td><td class=\"n\">{len(items) - suppressed}</td>"
                         f'<td class="n">{suppressed}</td></tr>')
    return "\n".join([*lines, "</tbody></table>"])


def _options(name: str, label: str, values: list[tuple[str, str]]) -> str:
    options = "".join(f'<option value="{escape(value)}">{escape(text)}</option>' for value, text in values)
    return (f'<label>{escape(label)} <select name="{name}" id="filter-{name}">'
            f'<option value="">all</option>{options}</select></label>')


def _filters(report: Report) -> str:
    findings = report.result.findings
    severities = Counter(f.severity for f in findings)
    accounts = Counter(f.account_id for f in findings)
    rules = Counter((f.rule_id, f.rule_name) for f in findings)
    rule_options = [(rule_id, f"{rule_id} {name} ({n})") for (rule_id, name), n in sorted(rules.items())]
    parts = [
        '<form id="filters" hidden>',
        _options("severity", "Severity", [(s, f"{s} ({severities[s]})") for s in SEVERITIES if severities[s]]),
        _options("account", "Account", [(a, f"{a} ({n})") for a, n in sorted(accounts.items())]),
        _options("rule", "Rule", rule_options),
        f'<label><input type="checkbox" name="suppressed" id="filter-suppressed"> show suppressed '
        f"({len(report.suppressed)})</label>",
        '<button type="reset">Clear filters</button>',
        f'<span><span id="shown">{len(findings)}</span> of {len(findings)} shown</span>',
        "</form>",
    ]
    return "\n".join(parts)


def _findings_table(findings: Iterable[Finding]) -> str:
    lines = ['<table id="findings">',
             "<thead><tr><th>severity</th><th>rule</th><th>account / region</th><th>resource</th>"
             "<th>finding</th></tr></thead>", "<tbody>"]
    lines += [_row(f) for f in findings]
    lines.append('<tr id="no-match" hidden><td colspan="5">No finding matches these filters.</td></tr>')
    return "\n".join([*lines, "</tbody></table>"])


def _row(finding: Finding) -> str:
    attributes = {"class": f"finding{' suppressed' if finding.suppressed else ''}", "data-id": finding.id,
                  "data-severity": finding.severity, "data-account": finding.account_id,
                  "data-rule": finding.rule_id, "data-suppressed": "true" if finding.suppressed else "false"}
    opening = "<tr " + " ".join(f'{name}="{escape(value)}"' for name, value in attributes.items()) + ">"
    severity = f'<span class="sev sev-{escape(finding.severity)}">{escape(finding.severity)}</span>'
    rule = f"<code>{escape(finding.rule_id)}</code><br>{escape(finding.rule_name)}"
    where = f"{escape(finding.account_id)}<br>{escape(finding.region)}"
    resource = f"<code>{escape(finding.resource_id)}</code><br>{escape(finding.resource_type)}"
    detail = [f'<div class="title">{escape(finding.title)}</div>',
              f'<div class="message">{escape(finding.message)}</div>']
    if finding.suppressed:
        suppression = finding.suppression or {}
        detail.append(f'<div class="suppression"><span class="badge">suppressed</span> '
                      f"{escape(str(suppression.get('reason', '')))} (expires "
                      f"{escape(str(suppression.get('expires') or 'never'))})</div>")
    if finding.resource_arn:
        detail.append(f'<div class="arn">{escape(finding.resource_arn)}</div>')
    if finding.related_resources:
        detail.append(f'<div class="related">related: {escape(", ".join(finding.related_resources))}</div>')
    remediation = finding.remediation or f"See `auditor rules {finding.rule_id}`."
    detail.append(f'<details class="remediation"><summary>Remediation</summary><pre>{escape(remediation)}</pre>'
                  "</details>")
    detail.append(f'<details class="evidence"><summary>Evidence</summary><pre>{escape(_pretty(finding.evidence))}</pre>'
                  "</details>")
    cells = [f'<td class="key">{severity}</td>', f'<td class="key">{rule}</td>', f'<td class="key">{where}</td>',
             f"<td>{resource}</td>", f'<td>{"".join(detail)}</td>']
    return opening + "".join(cells) + "</tr>"


def _pretty(evidence: Any) -> str:
    return json.dumps(evidence, indent=2, ensure_ascii=False, default=str)


def _expired(report: Report) -> str:
    expired = report.result.expired_suppressions
    if not expired:
        return ""
    items = "".join(f"<li><code>{escape(s.rule)}</code> {escape(s.resource)}: {escape(s.reason)} (expired "
                    f"{escape(str(s.expires))})</li>" for s in expired)
    return f"<h2>Expired suppressions ({len(expired)})</h2><ul>{items}</ul>"
