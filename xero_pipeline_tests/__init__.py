"""Tests mirror the package: one folder per layer, shared helpers at the top."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the project checkout
