"""Entry point of ``python -m churn_core``; see :mod:`churn_core.cli`."""

import sys

from churn_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
