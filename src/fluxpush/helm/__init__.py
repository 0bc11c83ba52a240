"""HelmReleases in push mode: chart sources, values, rendering and releases through the helm binary.

Data flow: `sources` resolves the chart (GitRepository path or HelmRepository index, cached on disk),
`values` composes the values as helm-controller does, `template` renders for a preview, `release`
runs install/upgrade/rollback/uninstall, `storage` reads helm's release Secrets, and `reconcile`
turns a HelmRelease node into the engine's `NodePlan`/`NodeResult`.
"""
