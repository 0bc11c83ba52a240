"""Running a repository's nodes against a cluster: the dependency-ordered run (`run`), the
Kustomization reconciler (`reconcile`), garbage collection of removed nodes (`gc`), health waits
(`health`, `wait`), the run lock (`lease`), spec.kubeConfig targets (`remote`) and plan files
(`planfile`). Objects, plans and records come from `fluxpush.planning`.
"""
