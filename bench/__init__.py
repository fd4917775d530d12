"""Benchmarks: `python bench/NAME.py [--quick]` (see README)."""
