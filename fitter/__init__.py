"""Statistics on binned templates (installed as ``ganom.fitter``): the HistFactory core
(:mod:`~ganom.fitter.hf`), inference (:mod:`~ganom.fitter.infer`), pyhf interchange
(:mod:`~ganom.fitter.pyhf`), configurations (:mod:`~ganom.fitter.config`), analyses, I/O,
plots and the command line. See docs/architecture.md."""

__all__: list[str] = []
