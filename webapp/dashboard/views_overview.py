"""Overview: counts per state, full sync progress, queue, throttling, pause banner, chart.

Each block also has a fragment URL that the page's script polls every few seconds
(static/dashboard.js), so the figures stay live without reloading the page.
"""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from webapp.dashboard import bp, chart, queries
from webapp.dashboard.login import login_required


def _chart_context() -> dict[str, object]:
    bars, top = chart.bars(chart.activity())
    return {"bars": bars, "top": top, "width": chart.WIDTH, "height": chart.HEIGHT}


@bp.get("")
@login_required
def overview() -> ResponseReturnValue:
    return render_template("dashboard/overview.html", data=queries.overview(),
                           **_chart_context())


@bp.get("fragments/overview")
@login_required
def overview_fragment() -> ResponseReturnValue:
    return render_template("dashboard/_overview.html", data=queries.overview())


@bp.get("fragments/chart")
@login_required
def chart_fragment() -> ResponseReturnValue:
    return render_template("dashboard/_chart.html", **_chart_context())
