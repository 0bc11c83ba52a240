"""Planning and applying a node: pure parts below, cluster I/O in the modules built on them.

Pure modules (plain data in, plain data out, no I/O):

    normalize   object identity (`ObjectId`, Flux inventory ids), what Flux drops before comparing
    mask        Secret masking on both sides of a diff
    diff        unified YAML diff and changed field paths of one object
    clientside  the client way: would an apply change the live object? (changed/unchanged/undecided)
    plan        `ObjectChange`/`NodePlan`/`Plan`, `classify`, JSON round trip, terminal rendering
    health      kstatus `compute_status` and Flux's wait verdict
    inventory   Flux inventory entries and the per-node store object
    prune       prune selection in Flux's order and the destructive-prune guard

The other modules of this package read and write the cluster through `fluxpush.kube`.
"""
