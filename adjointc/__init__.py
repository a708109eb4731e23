"""adjointc: source-to-source reverse-mode automatic differentiation for Python and NumPy."""
__version__ = "0.1.0"
