"""The KPI dashboard (`make report`): render.dashboard_html builds the page, `python -m infra.report`
fetches the KPIs from a running API and writes the page and its screenshot."""
