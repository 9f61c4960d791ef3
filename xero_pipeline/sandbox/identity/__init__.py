"""Xero's identity service: OAuth apps, tokens and codes, and which tenants each app is connected to."""
