"""Deterministic demo organisations with 18 months of history, built from a seed."""
