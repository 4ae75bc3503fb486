"""``python -m skeletal.cli``: the ``skeletal`` command."""

import sys

from skeletal.cli import main

sys.exit(main())
