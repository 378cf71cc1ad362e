"""Reporting domain: org units, plans, forms, reports, indicators (never imports ``bot``)."""
