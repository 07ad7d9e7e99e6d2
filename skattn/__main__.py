"""``python -m skattn``: see ``python -m skattn --help``."""

from ._cli import main

raise SystemExit(main())
