"""Figures: every function returns the Figure and accepts ``ax``."""
