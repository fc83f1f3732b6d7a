"""Statistics on binned templates (installed as ``ganom.fitter``)."""
