"""The composition root: what the CLI and the GitHub Action both run, wired in one place.

A face (`fluxpush.cli`: argv; `fluxpush.action`: `INPUT_*` and the event) only turns its input into a
request and a result into output. Below the faces, this package decides the rest once:

    request    the cluster target, the run's environment (`RunSettings`), discovery inputs, engine
               options
    selection  which nodes a command means and the order they apply in
    cluster    opening the client of a cluster target (sandbox, kubeconfig, EKS)
    lookups    what a run reads from the cluster besides objects: substituteFrom sources, Provider
               Secrets (else from the face's $FLUXPUSH_PROVIDER_SECRETS)
    usecases   preview, deploy (a reconcile deploys a selection), suspend, cluster status; the
               only call to `run_nodes`
    reconcilers  the registry of one reconciler per kind (engine's Kustomization, helm's HelmRelease)

Importing the package loads nothing heavy: `request` and `selection` serve verbs that never touch a
cluster, so the cluster client loads only with `cluster`, `lookups` and `usecases`.
"""
