"""Objects, their identity, the live snapshot, inventory records and plans: the layer below every
kind's reconciler (engine/ for Kustomizations, helm/ for HelmReleases) and the faces.

Pure modules (plain data in, plain data out, no I/O):

    normalize   object identity (`ObjectId`, Flux inventory ids), what Flux drops before comparing
    mask        Secret masking on both sides of a diff
    diff        unified YAML diff and changed field paths of one object
    clientside  the client way: would an apply change the live object? (changed/unchanged/undecided)
    plan        `ObjectChange`/`NodePlan`/`Plan`, `classify`, JSON round trip (terminal text: report/)
    classifier  a node's desired objects plus a `PlanReads` value in, planned objects out (decision 0011)
    inventory   Flux inventory entries and the per-node store object
    prune       prune selection in Flux's order and the destructive-prune guard
    result      a node's outcome (`NodeResult`, `Outcome`)

The others read the cluster through `fluxpush.kube`: `live` (the snapshot of live objects),
`reads` (the plan's read stage: a `PlanReads` value), `planner` (read, then classify; prune
planning), `removal` (what removing a node deletes) and `store` (writing inventory records).
"""
