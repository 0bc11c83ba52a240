"""The Flux object model: typed parsing, JSON Schema validation, HelmRelease normalization to v2.

    parse_flux_object(data, origin, locate)     -> FluxObject  (raises the first SchemaError)
    validate_flux_object(data, origin, locate)  -> list[SchemaError]  (every problem)
    is_flux_object(data)                        -> bool  (any `*.toolkit.fluxcd.io` apiVersion)
"""

from fluxpush.flux.kinds import FLUX_GROUPS, SUPPORTED, is_flux_object
from fluxpush.flux.model import (
    Alert,
    Bucket,
    CommonMetadata,
    DependsOn,
    FluxObject,
    GitRepository,
    HelmChart,
    HelmChartTemplate,
    HelmRelease,
    HelmRepository,
    Image,
    ImagePolicy,
    ImageRepository,
    ImageUpdateAutomation,
    Kustomization,
    ObjectRef,
    OCIRepository,
    Patch,
    PostBuild,
    Provider,
    SourceRef,
    SubstituteFrom,
    ValuesReference,
)
from fluxpush.flux.parse import parse_flux_object
from fluxpush.flux.validate import validate_flux_object

__all__ = [
    "FLUX_GROUPS",
    "SUPPORTED",
    "Alert",
    "Bucket",
    "CommonMetadata",
    "DependsOn",
    "FluxObject",
    "GitRepository",
    "HelmChart",
    "HelmChartTemplate",
    "HelmRelease",
    "HelmRepository",
    "Image",
    "ImagePolicy",
    "ImageRepository",
    "ImageUpdateAutomation",
    "Kustomization",
    "OCIRepository",
    "ObjectRef",
    "Patch",
    "PostBuild",
    "Provider",
    "SourceRef",
    "SubstituteFrom",
    "ValuesReference",
    "is_flux_object",
    "parse_flux_object",
    "validate_flux_object",
]
