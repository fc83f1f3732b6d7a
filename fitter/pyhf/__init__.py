"""pyhf interchange: validate, export, patchsets, load any workspace, parity with pyhf."""

from ganom.fitter.pyhf.export import export_workspace
from ganom.fitter.pyhf.load import load_workspace
from ganom.fitter.pyhf.patchset import apply_patch, export_patchset, validate_patchset
from ganom.fitter.pyhf.validate import validate_workspace

__all__ = ["apply_patch", "export_patchset", "export_workspace", "load_workspace", "validate_patchset",
           "validate_workspace"]
