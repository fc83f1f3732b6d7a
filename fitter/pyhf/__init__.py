"""pyhf interchange: validate, export, patchsets, load any workspace, parity with pyhf."""
