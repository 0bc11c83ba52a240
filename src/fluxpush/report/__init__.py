"""Reporting results outside the run: GitHub (auth, comments, checks, deployments), workflow commands.

github_app   App JWT → installation → repository-scoped token (refreshed), or a plain token
github       sticky PR comment, a commit's pull requests, check run / status, deployments
ratelimit    bounded waiting on GitHub's primary and secondary rate limits
comment      the comment markdown, truncated to GitHub's 65,536-character limit
workflow     `::…::` workflow commands, `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`, the run's URL
terminal     a plan as terminal text (colours on a TTY), for the CLI and the action's log
"""
