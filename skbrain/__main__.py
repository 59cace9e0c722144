"""``python -m skbrain``: the same as the ``skbrain`` command."""

import sys

from .cli import main

sys.exit(main())
