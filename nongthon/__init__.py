"""nongthon — a commune-by-commune tracker of Vietnam's New Rural Development programme (NTM)."""

__version__ = "0.1.0"
