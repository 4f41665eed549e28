"""``python -m bench.soak``: the same as ``python -m bench soak``."""

from .run import main

raise SystemExit(main())
