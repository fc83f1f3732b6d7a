"""Inference on binned models: single fits (iminuit), the batched minimiser, scans, oscillation
hypotheses, contours (Wilks, raster, CLs, Feldman–Cousins), significance and parallel toys."""
