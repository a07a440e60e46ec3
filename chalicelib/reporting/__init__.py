"""The ops report: KPI roll-ups drawn as inline SVG charts and tables, for the dashboard and as one HTML file."""
