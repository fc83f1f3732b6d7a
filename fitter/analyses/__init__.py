"""Analyses built on the core: detector comparison, gallium, the ⁵¹Cr branching ratio, pyhf
exports of configurations, the study."""
