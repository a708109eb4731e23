"""Golden snapshots of generated adjoints (see tests/test_golden.py and README.md here)."""
