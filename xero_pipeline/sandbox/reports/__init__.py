"""Xero's standard reports, computed from the books' journals."""
