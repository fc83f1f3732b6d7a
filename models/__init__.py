"""The physics of ganom (installed as ``ganom.models``): sources, ν–e cross sections,
oscillations, geometry, detectors, backgrounds, templates and the gallium experiments. It
never imports :mod:`ganom.fitter`."""
