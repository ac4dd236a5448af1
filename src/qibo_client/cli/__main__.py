"""``python -m qibo_client.cli``: the ``qibo-client`` command."""

import sys

from qibo_client.cli import main

sys.exit(main())
