"""Writing fluxpush's own bookkeeping objects (a node's inventory record) to the cluster."""

from __future__ import annotations

from typing import Any

from fluxpush.errors import ClusterError
from fluxpush.kube import KubeClient
from fluxpush.planning.classifier import is_missing_namespace
from fluxpush.planning.inventory import InventoryRecord, encode_inventory


def store_inventory(client: KubeClient, record: InventoryRecord, field_manager: str) -> None:
    """Write the node's inventory (see `apply_creating_namespace`)."""
    apply_creating_namespace(client, encode_inventory(record), field_manager)


def apply_creating_namespace(client: KubeClient, obj: dict[str, Any], field_manager: str) -> None:
    """Apply a namespaced object of fluxpush's own (an inventory); when the server refuses it for its
    missing namespace, create the namespace and apply again (no read before every write). These are
    bookkeeping writes: an interrupted run still records what it wrote."""
    with client.bookkeeping():
        try:
            client.apply(obj, field_manager, force=True)
        except ClusterError as exc:
            if not is_missing_namespace(exc):
                raise
            name = obj["metadata"]["namespace"]
            client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, field_manager)
            client.apply(obj, field_manager, force=True)
