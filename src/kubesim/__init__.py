"""kubesim: a simulated Kubernetes API server for tests (real HTTPS, SSA, watch, discovery, OpenAPI).

    from kubesim import KubeSim, Options
    with KubeSim(Options(cluster_name="demo")) as sim:
        sim.write_kubeconfig(tmp_path / "kubeconfig")   # kubectl, helm and client libraries accept it

Layers (like moto): `routes` (URL → what it names) → `handlers` (query parameters, rendering) →
`resources`/`deletion`/`watch` (verbs) → `apply` (managedFields) → `store` (objects, resourceVersion).
`server` is the only module with sockets. kubesim never imports fluxpush.
"""

from kubesim.cluster import Cluster, Options
from kubesim.server import KubeSim

__all__ = ["Cluster", "KubeSim", "Options"]
