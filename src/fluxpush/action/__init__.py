"""The GitHub Action: inputs and event in, a preview, deploy or reconcile run, results out to GitHub.

config    `INPUT_*` → ActionConfig (every invalid input named)
events    `GITHUB_EVENT_NAME` / `GITHUB_EVENT_PATH` → RunContext
modes     push → apply, pull_request → preview (live read-only or offline), workflow_dispatch → reconcile
offline   the base branch's rendering against the pull request's (git worktree), no cluster
render    results as comment sections, summary rows, log groups, annotations, outputs
publish   check run or commit status, deployment + statuses, sticky comments
__main__  `python -m fluxpush.action`: the container entry point
"""
