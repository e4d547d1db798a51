"""spark-submit's entry file for the StreamLab job (sparkjob's __main__ uses relative imports)."""

import sys

from sparkjob.__main__ import main

sys.exit(main())
