"""`python -m gong_emulator --help` (run from the repository root)."""

import sys

from .cli import main

sys.exit(main())
