"""A self-contained HTML report of an evaluation run: tables, plots (inline PNG), every failure, the run's
provenance, and, given an older report, what got better or worse. Everything from the run is escaped."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

METRICS = (
    "correctness",
    "faithfulness",
    "faithfulness_names_numbers",
    "faithfulness_judge",
    "citation_validity",
    "language_match",
    "refusal_recall",
    "refusal_precision",
    "injection_resistance",
)


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _plots(report: dict[str, Any]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = []
    summary = report["summary"]
    cells = summary.get("correctness_by_cell", {})
    if cells:
        fig, ax = plt.subplots(figsize=(7, 3))
        names = list(cells)
        values = [cells[c]["value"] for c in names]
        errors = [
            [v - cells[c]["ci95"][0] for c, v in zip(names, values, strict=True)],
            [cells[c]["ci95"][1] - v for c, v in zip(names, values, strict=True)],
        ]
        ax.bar(names, values, yerr=errors, capsize=4, color="#3465a4")
        ax.axhline(0.85, color="grey", linestyle="--", linewidth=0.8)
        ax.set_ylim(0, 1.05)
        ax.set_title("Correctness by cell (question → document language), 95% CI")
        fig.tight_layout()
        plots.append(("Correctness by cell", _png(fig)))
        plt.close(fig)
    firsts = [i["first_token_ms"] / 1000 for i in report["items"] if i.get("first_token_ms")]
    totals = [i["total_ms"] / 1000 for i in report["items"] if i.get("total_ms")]
    if totals:
        fig, ax = plt.subplots(figsize=(7, 3))
        ax.hist([firsts, totals], bins=25, label=["first token", "whole answer"])
        ax.set_xlabel("seconds")
        ax.set_ylabel("questions")
        ax.legend()
        fig.tight_layout()
        plots.append(("Latency", _png(fig)))
        plt.close(fig)
    return plots


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))


def compare(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """Metric deltas and the items whose verdict changed."""
    deltas = {}
    for key in METRICS:
        if key in new["summary"] and key in old.get("summary", {}):
            a, b = old["summary"][key]["value"], new["summary"][key]["value"]
            deltas[key] = {"old": a, "new": b, "delta": b - a}
    old_items = {i["id"]: i for i in old.get("items", [])}
    fixed, broken = [], []
    for item in new["items"]:
        before = old_items.get(item["id"])
        if before is None:
            continue
        if before["failures"] and not item["failures"]:
            fixed.append(item["id"])
        elif item["failures"] and not before["failures"]:
            broken.append(item["id"])
    return {"metrics": deltas, "fixed": fixed, "broken": broken}


def _rules_table(summary: dict[str, Any]) -> str:
    """The rule census: each rule of the answer path, the answers it changed, and how they came out."""
    census = summary.get("rules") or {}
    if not census:
        return ""
    columns = ("answers", "correct", "wrong", "refused", "unfaithful")
    head = "<tr><th>rule</th>" + "".join(f"<th>{c}</th>" for c in columns) + "</tr>"
    rows = "".join(
        f"<tr><td><code>{html.escape(rule)}</code></td>" + "".join(f"<td>{row[c]}</td>" for c in columns) + "</tr>"
        for rule, row in census.items()
    )
    return f"<h2>Rules that changed answers</h2><table>{head}{rows}</table>"


def _parts_table(report: dict[str, Any]) -> str:
    """Each part of the set side by side (tune, holdout, or one held-out set), with the floors they are held to."""
    parts = report.get("parts", {})
    if not parts:
        return ""
    floors = report.get("floors", {})
    head = "".join(f"<th>{html.escape(name)} (n={part['summary']['n']})</th>" for name, part in parts.items())
    rows = []
    for key in (*METRICS, "found@5"):
        cells = []
        for part in parts.values():
            row = part["summary"].get(key) if key != "found@5" else part.get("retrieval", {}).get("overall")
            value = None if row is None else (row["found@5"] if key == "found@5" else row["value"])
            cells.append("<td></td>" if value is None else f"<td>{_fmt(value)}</td>")
        floor = floors.get(key, report.get("retrieval_floor") if key == "found@5" else None)
        rows.append(f"<tr><td>{html.escape(key)}</td>{''.join(cells)}<td>{'' if floor is None else floor}</td></tr>")
    return (
        "<h2>By part</h2><p>Rules may be developed against <code>tune</code>; the floors judge <code>holdout</code> "
        "and sets held out whole (<code>all</code>).</p>"
        f"<table><tr><th>metric</th>{head}<th>floor</th></tr>{''.join(rows)}</table>"
    )


def render_html(report: dict[str, Any], comparison: dict[str, Any] | None = None) -> str:
    esc = html.escape
    meta = report["meta"]
    summary = report["summary"]
    rows = []
    for key in METRICS:
        if key not in summary:
            continue
        row = summary[key]
        lo, hi = row["ci95"]
        floor = report.get("floors", {}).get(key)
        ok = "" if floor is None else ("pass" if row["value"] >= floor else "FAIL")
        rows.append(
            f"<tr class='{ok.lower()}'><td>{esc(key)}</td><td>{_fmt(row['value'])}</td><td>{row['n']}</td>"
            f"<td>[{lo:.2f}, {hi:.2f}]</td><td>{'' if floor is None else floor}</td><td>{ok}</td></tr>"
        )
    for cell, row in summary.get("correctness_by_cell", {}).items():
        lo, hi = row["ci95"]
        rows.append(
            f"<tr><td>correctness {esc(cell)}</td><td>{_fmt(row['value'])}</td><td>{row['n']}</td>"
            f"<td>[{lo:.2f}, {hi:.2f}]</td><td></td><td></td></tr>"
        )
    retrieval = report.get("retrieval", {})
    retrieval_rows = "".join(
        f"<tr><td>{esc(cell)}</td><td>{r['n']}</td><td>{r['hit@1']:.3f}</td><td>{r['hit@5']:.3f}</td>"
        f"<td>{r['mrr']:.3f}</td></tr>"
        for cell, r in retrieval.items()
    )
    failures = "".join(
        "<details><summary>"
        f"{esc(i['id'])} · {esc(i['route'])} · {esc('; '.join(i['failures']))}</summary>"
        f"<p><b>Q:</b> {esc(i['question'])}</p><p><b>A:</b> {esc(i['answer'])}</p>"
        f"<p><b>Sources:</b> {esc(', '.join(i['sources']) or '—')}</p><p><b>Why this route:</b> {esc(i['reason'])}</p>"
        "</details>"
        for i in report["items"]
        if i["failures"]
    )
    retrieval_html = (
        "<h2>Retrieval</h2><table><tr><th>cell</th><th>n</th><th>hit@1</th><th>hit@5</th><th>MRR</th></tr>"
        + retrieval_rows
        + "</table>"
        if retrieval_rows
        else ""
    )
    plots = "".join(f"<h3>{esc(t)}</h3><img alt='{esc(t)}' src='{src}'>" for t, src in _plots(report))
    comparison_html = ""
    if comparison:
        deltas = "".join(
            f"<tr class='{'pass' if d['delta'] >= 0 else 'fail'}'><td>{esc(k)}</td><td>{d['old']:.3f}</td>"
            f"<td>{d['new']:.3f}</td><td>{d['delta']:+.3f}</td></tr>"
            for k, d in comparison["metrics"].items()
        )
        comparison_html = (
            "<h2>Compared with the older report</h2><table><tr><th>metric</th><th>old</th><th>new</th>"
            f"<th>change</th></tr>{deltas}</table>"
            f"<p><b>Now passing:</b> {esc(', '.join(comparison['fixed']) or '—')}</p>"
            f"<p><b>Now failing:</b> {esc(', '.join(comparison['broken']) or '—')}</p>"
        )
    settings = esc(str(meta.get("settings", {})))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Answer evaluation {esc(meta.get("commit", ""))}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#111}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #bbb;padding:4px 8px;text-align:left}}
tr.fail td{{background:#fde2e2}}tr.pass td{{background:#e6f4e6}}details{{margin:.4em 0}}code{{font-size:90%}}
</style></head><body>
<h1>Answer evaluation</h1>
<p>Commit <code>{esc(meta.get("commit", ""))}</code> · {esc(meta.get("time", ""))} · prompt
<code>{esc(meta.get("prompt_version", ""))}</code> · model <code>{esc(meta.get("model", ""))}</code> ·
dataset <code>{esc(meta.get("dataset", ""))}</code> · {summary["n"]} items</p>
<h2>Summary</h2><table><tr><th>metric</th><th>value</th><th>n</th><th>95% CI</th><th>floor</th><th></th></tr>
{"".join(rows)}</table>
{_parts_table(report)}
<p>Routes: {esc(str(summary.get("routes", {})))} · first token p50/p95
{summary["first_token_ms"]["p50"]:.0f}/{summary["first_token_ms"]["p95"]:.0f} ms · whole answer p50/p95
{summary["total_ms"]["p50"]:.0f}/{summary["total_ms"]["p95"]:.0f} ms</p>
{_rules_table(summary)}
{retrieval_html}
{comparison_html}
<h2>Plots</h2>{plots}
<h2>Failures</h2>{failures or "<p>None.</p>"}
<h2>Settings</h2><p><code>{settings}</code></p>
</body></html>
"""
