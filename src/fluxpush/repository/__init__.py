"""Reading a Flux repository into nodes, as Flux's controllers would see it.

    source            a checkout as source-controller packages it (revision, ignore rules)
    discover          build the cluster path, then every Kustomization a build declares, until closed
    graph             the dependsOn graph: order, cycles, what is blocked
    origins           which file and line each object came from, for error messages
    artifacts         ArtifactGenerator (source-watcher) rules; local_artifacts produces them per run
    fluxinstance      the root a Flux Operator FluxInstance defines
    root_config       `.fluxpush/root.yaml`, the spec of a synthesized root
    variable_sources  where postBuild.substituteFrom ConfigMaps and Secrets come from
    policy            repository checks `fluxpush validate` adds to schema and graph checks

Nothing here talks to a cluster: cluster reads come in through lookups the faces pass.
"""
