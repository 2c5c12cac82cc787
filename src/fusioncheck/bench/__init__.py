"""Benchmarks: fusioncheck's kernels side by side with what users would otherwise run, in one process.

Benchmarks report medians and ratios; tests check only that the implementations agree, never timings.
"""
