"""`python -m fluxpush.cli`: the `fluxpush` command line."""

from fluxpush.cli import main

raise SystemExit(main())
