"""Analyses built on the core: detector comparison, gallium, the ⁵¹Cr branching ratio, pyhf
exports of configurations, the study. Each is a user of the configuration step and of
:mod:`ganom.fitter.infer`, not a second stack."""

__all__: list[str] = []
