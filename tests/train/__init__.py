"""Tests of graphflow.train (a package: test_gating.py also exists in tests/autodiff)."""
