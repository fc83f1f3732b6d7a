"""pyhf patchsets of oscillated signals: write, validate, apply.

Patchsets (:func:`export_patchset`): one patch per (Δm², sin²2θ) grid point, labels
``["dm2", "sin2_2theta"]``; each patch replaces the ``data`` of every oscillated signal
sample (``source_on`` for the analytic models, any channel of a configuration-built one) and
the ``hi_data``/``lo_data`` of the histosys its response recomputes (``escale``) by the
oscillated templates (a JSON-patch ``test`` on the sample name guards each replacement). The base
workspace is the no-oscillation model; its sha256 digest is in the metadata.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:

    from ganom.fitter.infer.oscillation import OscillationGrid, OscillationModel
from ganom.exceptions import ExportError, WorkspaceError
from ganom.fitter.io import number_array
from ganom.fitter.pyhf.export import rounded
from ganom.fitter.pyhf.validate import (
    SCHEMA_VERSION,
    _check_schema,
    _check_structure,
    json_path,
    validate_workspace,
    workspace_digest,
)

__all__ = ["PATCH_LABELS", "NO_HEPDATA_RECORD", "export_patchset", "validate_patchset", "apply_patch"]

PATCH_LABELS = ["dm2", "sin2_2theta"]


NO_HEPDATA_RECORD = "ins0000000"


"""Placeholder for the ``references.hepdata`` field that the pyhf 1.0.0 patchset schema
requires: these projections have no HEPData record (said in each patchset's description)."""


# ----------------------------------------------------------------------------- patchsets
def _tag(value: float) -> str:
    return f"{value:.4g}".replace(".", "p").replace("-", "m").replace("+", "")


def _signal_pointers(osc: OscillationModel, workspace: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per oscillated (sample, channel) piece: its model row and slice, the JSON pointer of the
    sample, of its recomputed histosys data (by histosys position) and of its MC-statistics data."""
    chans = [c["name"] for c in workspace["channels"]]
    model = osc.model
    hp = model.histosys_parameters
    out = []
    for (sname, chan), q, sl in zip(osc.pieces, osc._q, osc._sl):
        if chan not in chans:
            raise ExportError(f"the workspace has no channel '{chan}' to patch")
        ci = chans.index(chan)
        names = [smp["name"] for smp in workspace["channels"][ci]["samples"]]
        if sname not in names:
            raise ExportError(f"signal sample '{sname}' is not in channel '{chan}' of the workspace")
        si = names.index(sname)
        base = f"/channels/{ci}/samples/{si}"
        mods = workspace["channels"][ci]["samples"][si]["modifiers"]
        hist = {}
        for h, _, _ in osc._var:
            pname = model.parameters.names[int(hp[h])]
            idx = [mi for mi, md in enumerate(mods) if md["type"] == "histosys" and md["name"] == pname]
            if idx:
                hist[h] = f"{base}/modifiers/{idx[0]}/data"
        mc = [mi for mi, md in enumerate(mods) if md["type"] == "staterror" and model.mcstat is not None
              and md["name"] in model.mcstat.names]
        out.append({"row": int(osc._rows[q]), "sample": sname, "slice": sl, "base": base, "histosys": hist,
                    "mcstat": (f"{base}/modifiers/{mc[0]}/data", np.asarray(mods[mc[0]]["data"], dtype=float))
                    if mc else None})
    return out


def export_patchset(osc: OscillationModel, workspace: Mapping[str, Any], grid: OscillationGrid, *, digits: int | None = 7,
                    chunk: int = 64, description: str = "", metadata: Mapping[str, Any] | None = None,
                    progress: bool = False) -> dict[str, Any]:
    """A pyhf PatchSet with one patch per point of ``grid`` (an :class:`OscillationGrid`).

    ``osc`` is the :class:`~ganom.fitter.infer.oscillation.OscillationModel` of the model that
    ``workspace`` was exported from; the patches replace its oscillated signal templates (and
    the histosys variations the signal response recomputes, e.g. ``escale``) by the
    oscillated ones. An MC-statistics ``staterror`` of a signal sample keeps its relative
    size per bin (δ scaled with the template). ``progress``: a bar over the points on stderr.
    """
    from ganom.progress import progress as progress_bar
    from ganom.resources import require_memory

    model = osc.model
    ptrs = _signal_pointers(osc, workspace)
    numbers = sum((pt["slice"].stop - pt["slice"].start) * (1 + 2 * len(pt["histosys"]) + (pt["mcstat"] is not None))
                  for pt in ptrs)
    # every patch holds its numbers as Python floats in lists (≈ 40 bytes each), then as JSON text
    require_memory(f"a patchset of {grid.shape[0]}x{grid.shape[1]} points × {numbers} numbers",
                   60.0 * numbers * grid.shape[0] * grid.shape[1], "use a coarser --grid for the patchset")
    dm2, s22t = grid.points()
    tags = [f"dm2_{_tag(d)}_s22t_{_tag(s)}" for d, s in zip(dm2, s22t)]
    if len(set(tags)) != len(tags):
        tags = [f"dm2_{i}_s22t_{j}" for i in range(grid.shape[0]) for j in range(grid.shape[1])]
    patches = []
    bar = progress_bar(dm2.size, f"patchset {metadata.get('detector', '') if metadata else ''}".strip(), "pt",
                       enabled=progress)
    for start in range(0, dm2.size, chunk):
        stop = min(start + chunk, dm2.size)
        nom, (dlo, dhi) = osc.nominal(dm2[start:stop], s22t[start:stop])
        for k in range(stop - start):
            ops: list[dict[str, Any]] = []
            for pt in ptrs:
                row, sl, base = pt["row"], pt["slice"], pt["base"]
                n = nom[k, row, sl]
                ops.append({"op": "test", "path": f"{base}/name", "value": pt["sample"]})
                ops.append({"op": "replace", "path": f"{base}/data", "value": rounded(n, digits)})
                for h, ptr in pt["histosys"].items():
                    ops.append({"op": "replace", "path": ptr,
                                "value": {"hi_data": rounded(n + dhi[k, h, row, sl], digits),
                                          "lo_data": rounded(n - dlo[k, h, row, sl], digits)}})
                if pt["mcstat"] is not None:
                    ptr, err = pt["mcstat"]
                    n0 = model.nominal[row, sl]
                    scale = np.where(n0 > 0, n / np.where(n0 > 0, n0, 1.0), 0.0)
                    ops.append({"op": "replace", "path": ptr, "value": rounded(err * scale, digits)})
            i = start + k
            patches.append({"metadata": {"name": tags[i], "values": rounded([dm2[i], s22t[i]], digits)},
                            "patch": ops})
        bar.update(stop - start)
    bar.close()
    meta = {"description": description or "3+1 oscillation hypotheses (dm2 [eV^2], sin2_2theta) of the signal; "
            "the base workspace is the no-oscillation model",
            "digests": {"sha256": workspace_digest(workspace)}, "labels": list(PATCH_LABELS),
            "references": {"hepdata": NO_HEPDATA_RECORD}}
    meta["description"] += (f"; references.hepdata = {NO_HEPDATA_RECORD} is a placeholder required by the "
                            f"pyhf schema (no HEPData record)")
    meta.update(dict(metadata or {}))
    meta["grid"] = {"dm2_ev2": rounded(grid.dm2, digits), "sin2_2theta": rounded(grid.sin2_2theta, digits)}
    ps = {"metadata": meta, "patches": patches, "version": SCHEMA_VERSION}
    validate_patchset(ps, workspace, "exported patchset")
    return ps


def _clone(obj: Any) -> Any:
    """A copy of a JSON document that shares nothing mutable (number arrays copied flat)."""
    if isinstance(obj, Mapping):
        return {k: _clone(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        if all(isinstance(v, (int, float, str, bool)) or v is None for v in obj):
            return list(obj)
        return [_clone(v) for v in obj]
    return obj


def _apply_ops(doc: Any, ops: Sequence[Mapping[str, Any]], where: str) -> Any:
    """Apply JSON-patch operations one by one (in place); a failure names the operation."""
    import jsonpatch
    import jsonpointer

    for k, op in enumerate(ops):
        try:
            doc = jsonpatch.JsonPatch([op]).apply(doc, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, KeyError, IndexError, TypeError) as exc:
            raise WorkspaceError(f"{where}.patch[{k}]: {op.get('op')} {op.get('path')!r} does not apply "
                                 f"({type(exc).__name__}: {exc})") from None
    return doc


def _verify_digests(patchset: Mapping[str, Any], workspace: Mapping[str, Any], where: str) -> None:
    import pyhf

    for alg, expected in patchset["metadata"]["digests"].items():
        got = pyhf.utils.digest(dict(workspace), algorithm=alg)
        if got != expected:
            raise WorkspaceError(f"{where}: metadata.digests.{alg}: {expected} does not match the workspace ({got}); "
                                 f"the patchset was made for another workspace")


def validate_patchset(patchset: Any, workspace: Mapping[str, Any] | None = None, where: str = "patchset") -> None:
    """Schema, labels and unique keys of a patchset; with ``workspace`` also its digest and
    that every patch applies and leaves a consistent workspace (the first one is validated in
    full, the others for structure and numbers; a patch whose operations, paths, tested values
    and value shapes repeat an applied one's is checked for numbers only, as it leaves the
    same structure). Errors name the JSON path."""
    _check_schema(patchset, "patchset.json", where)
    labels = patchset["metadata"]["labels"]
    names: set[str] = set()
    values: set[tuple[Any, ...]] = set()
    for i, p in enumerate(patchset["patches"]):
        md = p["metadata"]
        if len(md["values"]) != len(labels):
            raise WorkspaceError(f"{where}: {json_path('patches', i, 'metadata', 'values')}: {len(md['values'])} values, "
                                 f"labels {labels} need {len(labels)}")
        if md["name"] in names or tuple(md["values"]) in values:
            raise WorkspaceError(f"{where}: {json_path('patches', i, 'metadata')}: patch '{md['name']}' "
                                 f"{md['values']} repeats an earlier name or values")
        names.add(md["name"])
        values.add(tuple(md["values"]))
    if workspace is None:
        return
    validate_workspace(workspace, f"{where} (base workspace)")
    _verify_digests(patchset, workspace, where)
    checked: set[tuple[Any, ...]] = set()
    for i, p in enumerate(patchset["patches"]):
        here = f"{where}: {json_path('patches', i)} ('{p['metadata']['name']}')"
        shapes = []
        for k, op in enumerate(p["patch"]):
            shape = _shape(op.get("value"))
            if shape is None:
                raise WorkspaceError(f"{here}.patch[{k}].value: {op.get('op')} {op.get('path')!r} puts non-numbers "
                                     f"or non-finite numbers into the workspace")
            shapes.append(json.dumps(op.get("value"), sort_keys=True) if op.get("op") == "test" else shape)
        signature = tuple((op.get("op"), op.get("path"), op.get("from"), shape) for op, shape in zip(p["patch"], shapes))
        if signature in checked:
            continue  # same operations on values of the same shape: the same patched structure
        out = _apply_ops(_clone(workspace), p["patch"], here)
        try:
            (validate_workspace if i == 0 else _check_structure)(out, "patched")
        except WorkspaceError as exc:
            raise WorkspaceError(f"{here} leaves an inconsistent workspace: {exc}") from None
        checked.add(signature)


def _shape(value: Any) -> Any:
    """What of a patch value decides the patched workspace's structure: the lengths of number
    arrays and everything that is not a number (names, keys). None where a number is not
    finite or an array mixes numbers with anything else."""
    if isinstance(value, Mapping):
        parts = tuple((k, _shape(v)) for k, v in value.items())
        return None if any(v is None for _, v in parts) else parts
    if isinstance(value, list):
        if number_array(value) is not None:
            return ("numbers", len(value))
        if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return None  # numbers mixed with other things, or a non-finite number
        parts = tuple(_shape(v) for v in value)
        return None if any(v is None for v in parts) else parts
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "number"
    return ("literal", value)


def apply_patch(workspace: Mapping[str, Any], patchset: Mapping[str, Any], key: str | Sequence[float],
                where: str = "patchset") -> dict[str, Any]:
    """The workspace with one patch applied, looked up by name or by values (to 1e-6 relative:
    the values are written with 7 significant digits)."""
    validate_patchset(patchset, None, where)
    validate_workspace(workspace, f"{where} (base workspace)")
    _verify_digests(patchset, workspace, where)
    for i, p in enumerate(patchset["patches"]):
        md = p["metadata"]
        if (isinstance(key, str) and md["name"] == key) or (
                not isinstance(key, str) and len(md["values"]) == len(key)
                and np.allclose(np.asarray(md["values"], dtype=float), np.asarray(key, dtype=float), rtol=1e-6, atol=0)):
            out = _apply_ops(_clone(workspace), p["patch"], f"{where}: {json_path('patches', i)}")
            validate_workspace(out, f"{where}: {json_path('patches', i)} applied")
            return out
    shown = key if isinstance(key, str) else [float(v) for v in key]
    raise WorkspaceError(f"{where}: no patch named or with values {shown!r}; e.g. "
                         f"{', '.join(p['metadata']['name'] for p in patchset['patches'][:3])}")
